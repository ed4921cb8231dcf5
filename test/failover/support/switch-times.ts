import { performance } from 'node:perf_hooks';
import type { FailoverTransport } from '../../../libs/kanban/src/transports/failover';
import { waitFor } from '../../harness';

/**
 * Kill -9 to the first publish acknowledged elsewhere: usually about 1.5 s, since publishes in
 * flight at the kill wait out the primary's publish bound before going to RabbitMQ. Generous for a
 * loaded CI machine; the 2 s target is measured in bench/scenarios/failover-switch.ts, not here.
 */
export const SWITCH_OVER_BOUND_MS = 10_000;
/**
 * A restarted NATS ready to NATS taking publishes again: its client's reconnect, then three probes
 * 500 ms apart (1.5–4 s, failover README), with room for a loaded CI machine.
 */
export const FAILBACK_BOUND_MS = 15_000;
/** How long a failback is watched for before it counts as never happening (reported as NaN). */
const FAILBACK_WATCH_MS = 60_000;
const FAILBACK_POLL_MS = 20;

/**
 * Starts timing at once and resolves to the milliseconds until `broker` is the failover's first
 * available broker (the one publishes go to), or NaN when that does not happen within
 * FAILBACK_WATCH_MS. It never rejects, so it can run beside the rest of the test.
 */
export async function timeUntilTakingPublishes(failover: FailoverTransport, broker: string): Promise<number> {
  const since = performance.now();
  try {
    await waitFor(() => failover.stats.available[0] === broker, { timeoutMs: FAILBACK_WATCH_MS, intervalMs: FAILBACK_POLL_MS, description: `${broker} taking publishes again` });
    return Math.round(performance.now() - since);
  } catch {
    return Number.NaN;
  }
}
