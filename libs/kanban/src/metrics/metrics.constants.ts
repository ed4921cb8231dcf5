/** Injection token of the prom-client Registry kanban registers its metrics in. */
export const KANBAN_METRICS_REGISTRY = Symbol('KANBAN_METRICS_REGISTRY');

export const METRIC_QUEUE_DEPTH = 'kanban_queue_depth';
export const METRIC_CURRENT_WORKERS = 'kanban_current_workers';
export const METRIC_QUEUE_DEPTH_AVG = 'kanban_queue_depth_avg';
export const METRIC_LATENCY_MS = 'kanban_latency_ms';
export const METRIC_PUBLISHED_TOTAL = 'kanban_published_total';
export const METRIC_ACKED_TOTAL = 'kanban_acked_total';
export const METRIC_DEAD_LETTERED_TOTAL = 'kanban_dead_lettered_total';
export const METRIC_CIRCUIT_BREAKER_OPEN = 'kanban_circuit_breaker_open';
export const METRIC_ACTIVE_BROKER = 'kanban_active_broker';
export const METRIC_STALLED_SWEEPS_TOTAL = 'kanban_stalled_sweeps_total';

export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];
