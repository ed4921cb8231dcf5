import type { DeadLetter, QueueDepth } from '../../../libs/kanban/src';
import { allDeadLetters, waitFor, type DeadLetterLister } from '../../harness';
import type { Ledger } from '../../ledger/ledger';
import type { ChaosPayload } from '../../failover/support/ledger-consumer';

/** Upper bound of a drain once the fault healed: a few leases (4 s) and redelivery rounds, with room for a loaded machine. */
export const QUEUE_DRAIN_TIMEOUT_MS = 60_000;
const DRAIN_POLL_MS = 250;

/** What a drain reads: a KanbanQueue or a transport on one broker. */
export interface DrainSource extends DeadLetterLister {
  depth(): Promise<QueueDepth[]>;
}

/** Dead letters of `domain`, each counted in the ledger once (by broker and id). */
export async function recordDeadLetters(source: DrainSource, domain: string, ledger: Ledger, seen: Set<string>): Promise<DeadLetter[]> {
  const letters = await allDeadLetters(source, { domain });
  for (const letter of letters) {
    const key = (letter.item?.payload as ChaosPayload | undefined)?.key;
    if (key && !seen.has(`${letter.broker}:${letter.id}`)) {
      seen.add(`${letter.broker}:${letter.id}`);
      ledger.deadLetter(key, letter.reason);
    }
  }
  return letters;
}

/** Rows of `domain` with anything ready or in flight. */
export async function busyRows(source: DrainSource, domain: string): Promise<QueueDepth[]> {
  return (await source.depth()).filter((row) => row.domain === domain && (row.ready > 0 || row.inFlight > 0));
}

/**
 * The bounded drain every single-broker chaos test ends with: every acknowledged key processed or
 * dead-lettered, and the domain's queues empty (nothing ready, nothing in flight). Dead letters are
 * read once more at the end, so a dead-lettered copy of a processed key is in the ledger too
 * (`acknowledgedDeadLettered`). Throws with the ledger and the depth when it does not happen within
 * QUEUE_DRAIN_TIMEOUT_MS.
 */
export async function drainQueue(source: DrainSource, domain: string, ledger: Ledger, timeoutMs = QUEUE_DRAIN_TIMEOUT_MS): Promise<void> {
  const seen = new Set<string>();
  try {
    await waitFor(
      async () => {
        if (ledger.outstanding().length > 0) await recordDeadLetters(source, domain, ledger, seen);
        if (ledger.outstanding().length > 0) return false;
        return (await busyRows(source, domain)).length === 0;
      },
      { timeoutMs, intervalMs: DRAIN_POLL_MS, description: `${domain} to drain` },
    );
    await recordDeadLetters(source, domain, ledger, seen);
  } catch (error) {
    const depth = await source.depth().catch(() => []);
    throw new Error(
      `${(error as Error).message}; ${ledger.line('ledger')}; depth=${JSON.stringify(depth.filter((row) => row.domain === domain))}; ` +
        `outstanding e.g. ${ledger.outstanding().slice(0, 5).join(', ')}`,
      { cause: error },
    );
  }
}
