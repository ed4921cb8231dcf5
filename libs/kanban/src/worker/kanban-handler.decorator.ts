import { SetMetadata } from '@nestjs/common';
import { KANBAN_HANDLER_METADATA } from '../kanban.constants';
import type { Priority } from '../interfaces/work-item.interface';

/**
 * Delay before the retry that follows a failed delivery: a fixed delay, an exponential one
 * (`delayMs × 2^(attempt-1)`, capped at `maxDelayMs`, less up to `jitter` of it at random), or a
 * list (delay after attempt n; the last entry repeats).
 */
export type KanbanBackoff = { type: 'fixed'; delayMs: number } | { type: 'exponential'; delayMs: number; maxDelayMs?: number; jitter?: number } | number[];

/** A handler's own circuit breaker; unset fields take the module's. */
export interface KanbanHandlerBreakerOptions {
  /** Distinct items failing in a row that open it. @default circuitBreakerThreshold */
  threshold?: number;
  /** Time open before one probe item goes through. @default circuitBreakerCooldownMs */
  cooldownMs?: number;
}

/** A batch handler gets up to `max` items at once, collected for at most `waitMs` after the first. */
export interface KanbanBatchOptions {
  max: number;
  waitMs: number;
}

export interface KanbanHandlerOptions {
  /** The queue's domain. */
  domain: string;
  /** One priority; omitted = every priority of the domain, served strictly high → normal → low. */
  priority?: Priority;
  /** Deliveries before a failing item is dead-lettered as `max_attempts`, for every settler of this queue. @default maxAttempts */
  maxAttempts?: number;
  /** Delay between attempts. @default retryBackoffMs */
  backoff?: KanbanBackoff;
  /** Items of this handler running at once in this process (one worker each). @default autoscaled between minWorkers and maxWorkers */
  concurrency?: number;
  /** Items per pull, and each worker's in-flight bound. @default workerPullSize */
  pullSize?: number;
  /** A run longer than this dead-letters its item(s) as `processing_timeout`. @default workerProcessTimeoutMs */
  processTimeoutMs?: number;
  /** The handler's breaker, or `false` for none. @default the module's breaker settings */
  circuitBreaker?: KanbanHandlerBreakerOptions | false;
  /** Makes it a batch handler: it receives an array of payloads and an array of `KanbanContext`s. */
  batch?: KanbanBatchOptions;
}

/**
 * Marks a provider method as the consumer of a queue. The method receives the payload
 * (`@Payload()`) and a `KanbanContext` (`@Ctx()`); pipes, guards, interceptors and exception
 * filters apply as on any Nest microservice handler. Resolving acks the item; throwing retries it.
 * With `batch`, it receives the payloads and contexts as arrays and may return one result per item.
 */
export const KanbanHandler = (options: KanbanHandlerOptions): MethodDecorator => SetMetadata(KANBAN_HANDLER_METADATA, options);
