import type { ScheduleDeclaration } from '../scheduler/schedule.interface';
import type { KanbanGroupOptions } from './group.interface';
import type { TransportSettings } from '../transport/kanban-transport';

type TransportSettingsGroups = TransportSettings['groups'];
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

export interface NatsConnectionOptions {
  /** e.g. `['nats://127.0.0.1:4222']`. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** NKey seed (starts with `SU`). */
  nkeySeed?: string;
  tls?: Pick<TlsConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Connection name shown by the server. @default 'tps-kanban' */
  name?: string;
  /** Publishes not acknowledged by JetStream within this time fail (and fail over). @default 2000 */
  publishTimeoutMs?: number;
  /** Name prefix of the streams kanban creates. @default 'KANBAN' */
  streamPrefix?: string;
  /** JetStream storage replicas. @default 1 */
  replicas?: number;
  /**
   * A retry delayed this long or longer waits in the delay stream, outside the queue's in-flight
   * window (max_ack_pending); a shorter one is a delayed NAK. @default 5000
   */
  delayStreamMinMs?: number;
  /** A work queue this process has not pulled from for this long closes its standing pull (subscription); the next pull opens it again. @default 60000 */
  releaseIdleAfterMs?: number;
}

export interface RabbitMqConnectionOptions {
  /**
   * `amqp://user:pass@host:5672/vhost` or `amqps://…`; for a cluster, a comma list of its nodes' URLs:
   * each (re)connect tries them in turn, starting after the node it last lost.
   */
  url: string;
  tls?: Pick<TlsConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Publishes not confirmed within this time fail. @default 5000 */
  publishTimeoutMs?: number;
  /** Prefix of every exchange and queue kanban declares (`{prefix}.kanban.…`), to keep apps or tests apart on one vhost. Unset: no prefix. */
  queuePrefix?: string;
  /** A work queue this process has not pulled from for this long gives back what it prefetched and closes its consumer and channel; the next pull opens them again. @default 30000 */
  releaseIdleAfterMs?: number;
}

export interface EmbeddedStoreOptions {
  /** SQLite file. @default './data/kanban.db' */
  path: string;
}

/** How NATS and RabbitMQ share the work when both are configured. */
export interface KanbanFailoverOptions {
  /** A NATS publish not acknowledged within this time goes to RabbitMQ (and then to the outbox). @default 1500 */
  publishTimeoutMs?: number;
  /** Items the local outbox holds while both brokers are down; beyond it publish rejects with OutboxFullError (503). @default 100000 */
  outboxMaxItems?: number;
}

export type QueueFullBehavior = 'reject' | 'wait';

export interface KanbanModuleOptions {
  /** NATS JetStream, the primary broker. */
  nats?: NatsConnectionOptions;
  /** RabbitMQ: the broker on its own, or the fallback while NATS is down when `nats` is set too. */
  rabbitmq?: RabbitMqConnectionOptions;
  /** The embedded SQLite store, used when no broker is configured (and as the outbox of failover). */
  embedded?: Partial<EmbeddedStoreOptions>;
  /** Failover between NATS and RabbitMQ; used when both are set. */
  failover?: KanbanFailoverOptions;
  /** Items a worker pulls at once; also its in-flight bound. @default 10 */
  workerPullSize?: number;
  /** A handler running longer is stopped waiting for and its item dead-lettered as `processing_timeout`. @default 30000 */
  workerProcessTimeoutMs?: number;
  /** An item delivered and unsettled for longer is dead-lettered as `stalled`. @default 300000 */
  deadLetterTimeoutMs?: number;
  /** How often the coordinator samples depth, autoscales and sweeps stalled items. @default 5000 */
  coordinatorCheckIntervalMs?: number;
  /** Deliveries before a failing item is dead-lettered as `max_attempts`. @default 3 */
  maxAttempts?: number;
  /** Delay before retry n (the last entry repeats). @default [1000, 5000, 15000] */
  retryBackoffMs?: number[];
  /** @default 524288 (512 KiB) */
  maxPayloadBytes?: number;
  /** Items per (priority, domain) queue above which publish is refused or waits. @default 100000 */
  maxQueueDepth?: number;
  /**
   * Domains a process opens queues for; a publish or pull that would open one more throws
   * DomainLimitError. Domains already on the broker count (NATS, embedded), as read at the first
   * new domain and at each depth sample; on RabbitMQ those this process opened. @default 1000
   */
  maxDomains?: number;
  /** What `publish` does on a full queue. @default 'reject' */
  queueFullBehavior?: QueueFullBehavior;
  /** With `queueFullBehavior: 'wait'`, the longest wait before QueueFullError. @default 5000 */
  queueFullWaitMs?: number;
  /** Consecutive failures that open a worker's circuit breaker. @default 3 */
  circuitBreakerThreshold?: number;
  /** An open breaker lets one probe item through after this long (half-open). @default 30000 */
  circuitBreakerCooldownMs?: number;
  /** Workers per handler that the autoscaler keeps at least. @default 1 */
  minWorkers?: number;
  /** Workers per handler that the autoscaler never exceeds. @default 10 */
  maxWorkers?: number;
  /** Backlog per worker above which the autoscaler adds one. @default 100 */
  scaleUpDepthPerWorker?: number;
  /** Autoscale from depth. @default true */
  autoscale?: boolean;
  /** Depth of a queue above which periodic schedules skip or stretch their ticks. @default 1000 */
  highWatermark?: number;
  /** Window in which publishes with the same idempotencyKey become one item. @default 120000 */
  dedupWindowMs?: number;
  /** Start the workers of discovered `@KanbanHandler`s on application bootstrap. @default true */
  startWorkers?: boolean;
  /** Schedules declared in code, created or updated (by name) on start-up and kept on the broker. @default [] */
  schedules?: ScheduleDeclaration[];
  /** Schedule leadership lease: a dead leader's ticks resume within this plus one interval. @default 3000 */
  scheduleLeaseMs?: number;
  /** Lease of the instance that sweeps stalled items for the fleet: if it dies, another sweeps within this plus one check interval. @default 3000 */
  coordinatorLeaseMs?: number;
  /** Fair share between groups (tenants) within a domain: per-group limits and the NATS window. */
  groups?: KanbanGroupOptions;
  /**
   * Also expose the seed's `kanban_latency_ms` (milliseconds) beside the canonical
   * `kanban_latency_seconds`, for dashboards built on the seed's name; promtool flags its unit. @default false
   */
  latencyMsMetric?: boolean;
}

/** Options with every default filled in, validated. */
export interface KanbanResolvedOptions extends Required<Omit<KanbanModuleOptions, 'nats' | 'rabbitmq' | 'embedded' | 'failover' | 'groups'>> {
  groups: TransportSettingsGroups;
  nats?: NatsConnectionOptions;
  rabbitmq?: RabbitMqConnectionOptions;
  embedded: EmbeddedStoreOptions;
  failover: KanbanFailoverOptions;
}
