/**
 * A primary publish not acknowledged within this time goes to the fallback. Below NATS's own 2 s
 * publish timeout, so a frozen NATS costs a publish at most this long, including a queue
 * declaration the primary would otherwise wait out for its full API timeout.
 */
export const FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS = 1_500;
/** How often unavailable brokers are probed (and never-connected ones retried). */
export const FAILOVER_PROBE_INTERVAL_MS = 500;
/** A probe (a depth read) not answered within this time counts as failed. */
export const FAILOVER_PROBE_TIMEOUT_MS = 1_000;
/** Consecutive answered probes before an unavailable broker takes work again: one good answer after an outage is not enough (no flapping). */
export const FAILOVER_RECOVERY_PROBES = 3;
/** A broker whose first connect failed is asked to connect again this often. */
export const FAILOVER_RECONNECT_INTERVAL_MS = 2_000;
/** A waiting pull waits on the broker taking publishes for at most this long before it looks at the other one again. */
export const FAILOVER_PULL_WAIT_SLICE_MS = 500;
/** Items the outbox holds at most; beyond it publish rejects with OutboxFullError. */
export const FAILOVER_DEFAULT_OUTBOX_MAX_ITEMS = 100_000;
/** Outbox items sent per forwarding round; they are published concurrently, in outbox order on the wire. */
export const FAILOVER_FORWARD_BATCH = 100;
/** close() spends at most this long forwarding the outbox to a reachable broker; the rest stays in the file. */
export const FAILOVER_CLOSE_FLUSH_TIMEOUT_MS = 5_000;
/** The outbox table, in the embedded store's SQLite file. */
export const FAILOVER_OUTBOX_TABLE = 'kanban_outbox';
/** Separates the broker name from that broker's own lease in a failover lease (`nats:<lease>`). */
export const FAILOVER_LEASE_SEPARATOR = ':';
