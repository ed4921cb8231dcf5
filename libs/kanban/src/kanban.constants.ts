/** Injection token of the transport every other part of the library talks to. */
export const KANBAN_TRANSPORT = Symbol('KANBAN_TRANSPORT');
/** Injection token of the resolved (defaults merged, validated) module options. */
export const KANBAN_OPTIONS = Symbol('KANBAN_OPTIONS');
/** Metadata key written by `@KanbanHandler`. */
export const KANBAN_HANDLER_METADATA = 'kanban:handler';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export const DOMAIN_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
/** A group (tenant key): a domain's pattern, up to 64 characters; it ends up in subjects and queue names. */
export const GROUP_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const SUBJECT_PREFIX = 'kanban';

/** On NATS, items of one group in its queue at once when it has no maxInFlight (KanbanGroupOptions.window). */
export const DEFAULT_GROUP_WINDOW = 100;

export const DEFAULT_EMBEDDED_PATH = './data/kanban.db';
export const DEFAULT_WORKER_PULL_SIZE = 10;
export const DEFAULT_WORKER_PROCESS_TIMEOUT_MS = 30_000;
export const DEFAULT_DEAD_LETTER_TIMEOUT_MS = 300_000;
export const DEFAULT_COORDINATOR_CHECK_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_BACKOFF_MS: readonly number[] = [1_000, 5_000, 15_000];
export const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024;
export const DEFAULT_MAX_QUEUE_DEPTH = 100_000;
/** Each domain costs the brokers streams, consumers and queues; the bound keeps a client from opening them without end. */
export const DEFAULT_MAX_DOMAINS = 1_000;
export const DEFAULT_QUEUE_FULL_WAIT_MS = 5_000;
export const DEFAULT_CIRCUIT_BREAKER_THRESHOLD = 3;
/** An open breaker probes one item after this long: without it one bad minute would stop a domain until a restart. */
export const DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS = 30_000;
export const DEFAULT_MIN_WORKERS = 1;
export const DEFAULT_MAX_WORKERS = 10;
export const DEFAULT_SCALE_UP_DEPTH_PER_WORKER = 100;
export const DEFAULT_HIGH_WATERMARK = 1_000;
export const DEFAULT_DEDUP_WINDOW_MS = 120_000;
export const DEFAULT_PULL_WAIT_MS = 1_000;
/** Longest time a worker keeps after its processing timeout to dead-letter the item before its lease lapses. */
export const LEASE_GRACE_MS = 5_000;
/** How many depth samples the coordinator keeps (the spec's "last 10 readings"). */
export const DEPTH_SAMPLE_COUNT = 10;
