/** The fault of the frozen-server load tests: nats-server stopped (SIGSTOP) this long under load. */
export const FROZEN_MS = 30_000;
/** Publishing goes on this long after SIGCONT, so the tests see publishes taken again. */
const PUBLISHING_AFTER_SIGCONT_MS = 5_000;

/**
 * Items a steady publisher at `ratePerSecond` sends when nats-server is frozen once `stopAt` were
 * launched: enough to publish through the freeze and for PUBLISHING_AFTER_SIGCONT_MS after it.
 */
export function itemsThroughFreeze(stopAt: number, ratePerSecond: number): number {
  return stopAt + ((FROZEN_MS + PUBLISHING_AFTER_SIGCONT_MS) * ratePerSecond) / 1_000;
}
