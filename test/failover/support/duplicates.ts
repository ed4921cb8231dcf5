import type { Ledger } from '../../ledger/ledger';

/**
 * Acks a broker may not have applied when it was killed (in its socket buffer, or not yet written):
 * an item settled this shortly before a kill -9 may be delivered again, like one held by a worker.
 */
export const ACK_IN_FLIGHT_WINDOW_MS = 500;

/**
 * Duplicated keys whose first processing ended before `since` (performance.now()): items settled
 * well before the fault that came back anyway. A correct run has none.
 */
export function duplicatesSettledBefore(ledger: Ledger, since: number): string[] {
  return ledger.duplicatedKeys().filter((key) => (ledger.firstProcessedAtOf(key) ?? Number.POSITIVE_INFINITY) < since);
}

/**
 * Keys first processed in the ACK_IN_FLIGHT_WINDOW_MS before `at` (performance.now()): their acks
 * may not have landed when a fault struck at `at`, so they count as in flight at it.
 */
export function processedJustBefore(ledger: Ledger, keys: Iterable<string>, at: number): number {
  let count = 0;
  for (const key of keys) {
    const first = ledger.firstProcessedAtOf(key);
    if (first !== undefined && first <= at && first >= at - ACK_IN_FLIGHT_WINDOW_MS) count++;
  }
  return count;
}

/** Duplicated keys whose receipt named `broker`. */
export function duplicatesReceivedBy(ledger: Ledger, broker: string): string[] {
  return ledger.duplicatedKeys().filter((key) => ledger.brokerOf(key) === broker);
}
