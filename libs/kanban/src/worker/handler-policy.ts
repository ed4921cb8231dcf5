import { KanbanConfigError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { domainError, priorityError } from '../validation';
import type { KanbanBackoff, KanbanBatchOptions, KanbanHandlerOptions } from './kanban-handler.decorator';

/** A handler's options with every unset one taken from the module's. */
export interface HandlerPolicy {
  maxAttempts: number;
  backoff: KanbanBackoff;
  /** Unset: the coordinator scales the handler's workers between minWorkers and maxWorkers. */
  concurrency?: number;
  pullSize: number;
  processTimeoutMs: number;
  circuitBreaker: { threshold: number; cooldownMs: number } | false;
  batch?: KanbanBatchOptions;
}

const HANDLER_OPTION_KEYS: readonly string[] = ['domain', 'priority', 'maxAttempts', 'backoff', 'concurrency', 'pullSize', 'processTimeoutMs', 'circuitBreaker', 'batch'];

const isPositiveInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
const isNonNegativeInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Checks a `@KanbanHandler`'s options and fills the unset ones from the module's.
 * @param name `Class.method`, named in the error.
 * @throws KanbanConfigError naming the handler and the first bad field.
 */
export function resolveHandlerPolicy(name: string, options: KanbanHandlerOptions, module: KanbanResolvedOptions): HandlerPolicy {
  const fail = (field: string, detail: string): never => {
    throw new KanbanConfigError(`@KanbanHandler on ${name}`, `${field} ${detail}`);
  };
  const unknown = Object.keys(options).find((key) => !HANDLER_OPTION_KEYS.includes(key));
  if (unknown) fail(unknown, `is not a handler option (one of ${HANDLER_OPTION_KEYS.join(', ')})`);
  const invalid = domainError(options.domain) ?? (options.priority !== undefined ? priorityError(options.priority) : undefined);
  if (invalid) fail('domain/priority', invalid);
  for (const field of ['maxAttempts', 'concurrency', 'pullSize', 'processTimeoutMs'] as const) {
    if (options[field] !== undefined && !isPositiveInteger(options[field])) fail(field, `must be a positive integer, got ${String(options[field])}`);
  }
  if (options.backoff !== undefined) checkBackoff(options.backoff, fail);
  const breaker = options.circuitBreaker;
  if (breaker !== undefined && breaker !== false) {
    if (typeof breaker !== 'object' || breaker === null) fail('circuitBreaker', 'must be { threshold?, cooldownMs? } or false');
    for (const field of ['threshold', 'cooldownMs'] as const) {
      if (breaker[field] !== undefined && !isPositiveInteger(breaker[field])) fail(`circuitBreaker.${field}`, `must be a positive integer, got ${String(breaker[field])}`);
    }
  }
  if (options.batch !== undefined) {
    const { batch } = options;
    if (typeof batch !== 'object' || batch === null) fail('batch', 'must be { max, waitMs }');
    if (!isPositiveInteger(batch.max)) fail('batch.max', `must be a positive integer, got ${String(batch.max)}`);
    if (!isNonNegativeInteger(batch.waitMs)) fail('batch.waitMs', `must be a non-negative integer, got ${String(batch.waitMs)}`);
    if (options.pullSize !== undefined) fail('pullSize', 'is batch.max for a batch handler: set only batch.max');
  }
  return {
    maxAttempts: options.maxAttempts ?? module.maxAttempts,
    backoff: options.backoff ?? [...module.retryBackoffMs],
    concurrency: options.concurrency,
    pullSize: options.batch?.max ?? options.pullSize ?? module.workerPullSize,
    processTimeoutMs: options.processTimeoutMs ?? module.workerProcessTimeoutMs,
    circuitBreaker: breaker === false ? false : { threshold: breaker?.threshold ?? module.circuitBreakerThreshold, cooldownMs: breaker?.cooldownMs ?? module.circuitBreakerCooldownMs },
    batch: options.batch ? { max: options.batch.max, waitMs: options.batch.waitMs } : undefined,
  };
}

function checkBackoff(backoff: KanbanBackoff, fail: (field: string, detail: string) => never): void {
  if (Array.isArray(backoff)) {
    if (backoff.length === 0 || !backoff.every(isNonNegativeInteger)) fail('backoff', 'as a list must hold one or more non-negative integers (ms)');
    return;
  }
  if (typeof backoff !== 'object' || backoff === null) return fail('backoff', "must be { type: 'fixed' | 'exponential', ... } or a list of delays");
  if (backoff.type === 'fixed') {
    if (!isNonNegativeInteger(backoff.delayMs)) fail('backoff.delayMs', `must be a non-negative integer, got ${String(backoff.delayMs)}`);
    return;
  }
  if (backoff.type !== 'exponential') return fail('backoff.type', `must be 'fixed' or 'exponential', got ${String((backoff as { type?: unknown }).type)}`);
  if (!isPositiveInteger(backoff.delayMs)) fail('backoff.delayMs', `must be a positive integer, got ${String(backoff.delayMs)}`);
  if (backoff.maxDelayMs !== undefined && (!isPositiveInteger(backoff.maxDelayMs) || backoff.maxDelayMs < backoff.delayMs)) {
    fail('backoff.maxDelayMs', `must be an integer >= delayMs, got ${String(backoff.maxDelayMs)}`);
  }
  const { jitter } = backoff;
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))) fail('backoff.jitter', `must be a number from 0 to 1, got ${String(jitter)}`);
}
