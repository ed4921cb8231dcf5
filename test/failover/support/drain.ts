import type { FailoverTransport } from '../../../libs/kanban/src/transports/failover';
import { allDeadLetters, waitFor, type DeadLetterLister } from '../../harness';
import type { Ledger } from '../../ledger/ledger';
import type { ChaosPayload } from './ledger-consumer';

/** Upper bound of a drain after the faults healed: the longest redelivery (a 4 s lease, an ack wait) many times over. */
export const DRAIN_TIMEOUT_MS = 90_000;
const DRAIN_POLL_MS = 500;

/** Where dead letters are read: a KanbanQueue, or a transport (when the app runs in another process). */
export type DeadLetterSource = DeadLetterLister;

/** Records dead letters of `domain` in the ledger once each. */
export async function recordDeadLetters(source: DeadLetterSource, domain: string, ledger: Ledger, seen: Set<string>): Promise<void> {
  for (const letter of await allDeadLetters(source, { domain })) {
    const key = (letter.item?.payload as ChaosPayload | undefined)?.key;
    if (key && !seen.has(`${letter.broker}:${letter.id}`)) {
      seen.add(`${letter.broker}:${letter.id}`);
      ledger.deadLetter(key, letter.reason);
    }
  }
}

/**
 * The bounded drain every chaos test ends with: both brokers available again, every acknowledged
 * key processed or dead-lettered, and the domain's queues empty on both brokers and in the outbox.
 * Dead letters are read once more at the end, so a dead-lettered copy of a processed key is in the
 * ledger too (`acknowledgedDeadLettered`).
 */
export async function drain(failover: FailoverTransport, deadLetters: DeadLetterSource, domain: string, ledger: Ledger): Promise<void> {
  const seen = new Set<string>();
  try {
    await waitFor(
      async () => {
        if (failover.stats.available.length < 2 || failover.stats.outboxSize > 0) return false;
        if (ledger.outstanding().length > 0) await recordDeadLetters(deadLetters, domain, ledger, seen);
        if (ledger.outstanding().length > 0) return false;
        const rows = (await failover.depth()).filter((row) => row.domain === domain);
        return rows.every((row) => row.ready === 0 && row.inFlight === 0);
      },
      { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: DRAIN_POLL_MS, description: `${domain} to drain` },
    );
    await recordDeadLetters(deadLetters, domain, ledger, seen);
  } catch (error) {
    const stats = failover.stats;
    const depth = await failover.depth().catch(() => []);
    throw new Error(
      `${(error as Error).message}; ${ledger.line('ledger')}; available=${stats.available.join(',')} outbox=${stats.outboxSize}; ` +
        `depth=${JSON.stringify(depth.filter((row) => row.domain === domain))}; outstanding e.g. ${ledger.outstanding().slice(0, 5).join(', ')}`,
      { cause: error },
    );
  }
}
