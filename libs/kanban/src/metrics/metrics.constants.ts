/** Injection token of the prom-client Registry kanban registers its metrics in. */
export const KANBAN_METRICS_REGISTRY = Symbol('KANBAN_METRICS_REGISTRY');

export const METRIC_QUEUE_DEPTH = 'kanban_queue_depth';
export const METRIC_CURRENT_WORKERS = 'kanban_current_workers';
export const METRIC_QUEUE_DEPTH_AVG = 'kanban_queue_depth_avg';
/** The canonical publish-to-ack histogram, in seconds as Prometheus names units. */
export const METRIC_LATENCY_SECONDS = 'kanban_latency_seconds';
/** The seed's name for the same histogram in milliseconds: exposed only with `latencyMsMetric: true`. */
export const METRIC_LATENCY_MS = 'kanban_latency_ms';
export const METRIC_PUBLISHED_TOTAL = 'kanban_published_total';
export const METRIC_ACKED_TOTAL = 'kanban_acked_total';
export const METRIC_DEAD_LETTERED_TOTAL = 'kanban_dead_lettered_total';
export const METRIC_CIRCUIT_BREAKER_OPEN = 'kanban_circuit_breaker_open';
export const METRIC_ACTIVE_BROKER = 'kanban_active_broker';
export const METRIC_STALLED_SWEEPS_TOTAL = 'kanban_stalled_sweeps_total';
export const METRIC_RETRIES_TOTAL = 'kanban_retries_total';
export const METRIC_LEASE_EXPIRIES_TOTAL = 'kanban_lease_expiries_total';
export const METRIC_FAILOVERS_TOTAL = 'kanban_failovers_total';
export const METRIC_OUTBOX_ITEMS = 'kanban_outbox_items';
export const METRIC_HANDLER_DURATION_SECONDS = 'kanban_handler_duration_seconds';
/** Per group, registered only with `groups.metrics` (one series per group). */
export const METRIC_GROUP_HANDED_OUT_TOTAL = 'kanban_group_handed_out_total';
export const METRIC_GROUP_COMPLETED_TOTAL = 'kanban_group_completed_total';
/** The `group` label of items published without a group (the default group). */
export const DEFAULT_GROUP_LABEL = '';

export const MS_PER_SECOND = 1_000;

export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];
/** LATENCY_BUCKETS_MS in seconds, so both histograms cut at the same points. */
export const LATENCY_BUCKETS_SECONDS = LATENCY_BUCKETS_MS.map((ms) => ms / MS_PER_SECOND);

/** From a no-op handler to the default processing timeout (30 s) and past it. */
export const HANDLER_DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** How a handler run ended: `ok` resolved, `nack` / `retry` returned or threw the control value, `error` threw, `timeout` ran past workerProcessTimeoutMs. */
export type HandlerOutcome = 'ok' | 'nack' | 'retry' | 'error' | 'timeout';

/** How an item of a group left the queue: acknowledged, or moved to the dead-letter queue. */
export type GroupOutcome = 'ack' | 'dead_letter';
