import * as constants from './kanban.constants';
import { KanbanConfigError } from './errors';
import { DEFAULT_SCHEDULE_LEASE_MS } from './scheduler/scheduler.constants';
import { DEFAULT_COORDINATOR_LEASE_MS } from './coordinator/coordinator.constants';
import { validateGroupOptions } from './groups/validate-group-options';
import type { TransportSettings } from './transport/kanban-transport';
import type { KanbanModuleOptions, KanbanResolvedOptions } from './interfaces/kanban-options.interface';

const POSITIVE_INTEGERS = [
  'workerPullSize',
  'workerProcessTimeoutMs',
  'deadLetterTimeoutMs',
  'coordinatorCheckIntervalMs',
  'maxAttempts',
  'maxPayloadBytes',
  'maxQueueDepth',
  'maxDomains',
  'queueFullWaitMs',
  'circuitBreakerThreshold',
  'circuitBreakerCooldownMs',
  'maxWorkers',
  'scaleUpDepthPerWorker',
  'highWatermark',
  'dedupWindowMs',
  'scheduleLeaseMs',
  'coordinatorLeaseMs',
] as const;

/**
 * Merges defaults into the user's options and checks them once, at start-up.
 * @throws KanbanConfigError naming the first bad option.
 */
export function resolveKanbanOptions(options: KanbanModuleOptions = {}): KanbanResolvedOptions {
  const resolved: KanbanResolvedOptions = {
    workerPullSize: constants.DEFAULT_WORKER_PULL_SIZE,
    workerProcessTimeoutMs: constants.DEFAULT_WORKER_PROCESS_TIMEOUT_MS,
    deadLetterTimeoutMs: constants.DEFAULT_DEAD_LETTER_TIMEOUT_MS,
    coordinatorCheckIntervalMs: constants.DEFAULT_COORDINATOR_CHECK_INTERVAL_MS,
    maxAttempts: constants.DEFAULT_MAX_ATTEMPTS,
    retryBackoffMs: [...constants.DEFAULT_RETRY_BACKOFF_MS],
    maxPayloadBytes: constants.DEFAULT_MAX_PAYLOAD_BYTES,
    maxQueueDepth: constants.DEFAULT_MAX_QUEUE_DEPTH,
    maxDomains: constants.DEFAULT_MAX_DOMAINS,
    queueFullBehavior: 'reject',
    queueFullWaitMs: constants.DEFAULT_QUEUE_FULL_WAIT_MS,
    circuitBreakerThreshold: constants.DEFAULT_CIRCUIT_BREAKER_THRESHOLD,
    circuitBreakerCooldownMs: constants.DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS,
    minWorkers: constants.DEFAULT_MIN_WORKERS,
    maxWorkers: constants.DEFAULT_MAX_WORKERS,
    scaleUpDepthPerWorker: constants.DEFAULT_SCALE_UP_DEPTH_PER_WORKER,
    autoscale: true,
    highWatermark: constants.DEFAULT_HIGH_WATERMARK,
    dedupWindowMs: constants.DEFAULT_DEDUP_WINDOW_MS,
    startWorkers: true,
    schedules: [],
    scheduleLeaseMs: DEFAULT_SCHEDULE_LEASE_MS,
    coordinatorLeaseMs: DEFAULT_COORDINATOR_LEASE_MS,
    latencyMsMetric: false,
    ...stripUndefined(options),
    embedded: { path: options.embedded?.path ?? constants.DEFAULT_EMBEDDED_PATH },
    failover: stripUndefined(options.failover ?? {}),
    groups: {
      window: constants.DEFAULT_GROUP_WINDOW,
      metrics: false,
      ...stripUndefined(options.groups ?? {}),
      domains: { ...(options.groups?.domains ?? {}) },
    },
  };

  for (const key of POSITIVE_INTEGERS) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value <= 0) throw new KanbanConfigError(key, `must be a positive integer, got ${String(value)}`);
  }
  if (!Number.isSafeInteger(resolved.minWorkers) || resolved.minWorkers < 0) {
    throw new KanbanConfigError('minWorkers', `must be a non-negative integer, got ${String(resolved.minWorkers)}`);
  }
  if (resolved.minWorkers > resolved.maxWorkers) {
    throw new KanbanConfigError('minWorkers', `(${resolved.minWorkers}) must not exceed maxWorkers (${resolved.maxWorkers})`);
  }
  if (!Array.isArray(resolved.retryBackoffMs) || resolved.retryBackoffMs.length === 0 || resolved.retryBackoffMs.some((ms) => !Number.isSafeInteger(ms) || ms < 0)) {
    throw new KanbanConfigError('retryBackoffMs', 'must be a non-empty list of non-negative integers');
  }
  if (resolved.queueFullBehavior !== 'reject' && resolved.queueFullBehavior !== 'wait') {
    throw new KanbanConfigError('queueFullBehavior', `must be 'reject' or 'wait', got ${String(resolved.queueFullBehavior)}`);
  }
  for (const key of ['publishTimeoutMs', 'outboxMaxItems'] as const) {
    const value = resolved.failover[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new KanbanConfigError(`failover.${key}`, `must be a positive integer when set, got ${String(value)}`);
    }
  }
  if (!Array.isArray(resolved.schedules)) throw new KanbanConfigError('schedules', 'must be a list of schedule declarations');
  if (typeof resolved.embedded.path !== 'string' || resolved.embedded.path.length === 0) {
    throw new KanbanConfigError('embedded.path', 'must be a file path');
  }
  if (resolved.nats && (!Array.isArray(resolved.nats.servers) || resolved.nats.servers.length === 0)) {
    throw new KanbanConfigError('nats.servers', 'must list at least one server URL');
  }
  if (resolved.rabbitmq && !/^amqps?:\/\//.test(resolved.rabbitmq.url ?? '')) {
    throw new KanbanConfigError('rabbitmq.url', 'must start with amqp:// or amqps://');
  }
  validateGroupOptions(resolved.groups);
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Lease handed out with each delivery: the processing timeout plus time for the worker to
 * dead-letter the item after it (LEASE_GRACE_MS, or the timeout itself when that is shorter).
 */
export function leaseMsFor(options: KanbanResolvedOptions): number {
  return options.workerProcessTimeoutMs + Math.min(constants.LEASE_GRACE_MS, options.workerProcessTimeoutMs);
}

/** Delay before the retry that follows delivery number `attempts`. */
export function retryDelayMs(options: KanbanResolvedOptions, attempts: number): number {
  const list = options.retryBackoffMs;
  return list[Math.min(Math.max(attempts, 1), list.length) - 1];
}

export function transportSettingsFrom(options: KanbanResolvedOptions): TransportSettings {
  return {
    maxAttempts: options.maxAttempts,
    maxQueueDepth: options.maxQueueDepth,
    dedupWindowMs: options.dedupWindowMs,
    maxPayloadBytes: options.maxPayloadBytes,
    retryBackoffMs: [...options.retryBackoffMs],
    workerPullSize: options.workerPullSize,
    leaseMs: leaseMsFor(options),
    groups: { ...options.groups, domains: { ...options.groups.domains } },
  };
}
