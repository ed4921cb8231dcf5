import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaseExpiredError } from '../errors';
import type { Delivery } from '../interfaces/delivery.interface';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { leaseMsFor } from '../kanban-options';
import type { KanbanMetrics } from '../metrics/kanban-metrics';
import type { HandlerOutcome } from '../metrics/metrics.constants';
import type { KanbanQueue } from '../queue/kanban-queue';
import { backoffDelayMs } from './backoff';
import { collectBatch } from './batch-collector';
import { batchResults } from './batch-results';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';
import { KanbanContext } from './kanban-context';
import type { DiscoveredHandler } from './kanban-handler.explorer';
import type { KanbanServer } from './kanban.server';
import { KanbanNack, KanbanRetry } from './settle-control';
import { HandlerSpans, type HandlerSpan } from '../tracing/handler-spans';

/** How long one pull waits on an empty queue before the worker checks whether it should stop. */
export const WORKER_PULL_WAIT_MS = 1_000;
/** Pause after a failed pull (broker down) before the next one. */
export const WORKER_PULL_ERROR_BACKOFF_MS = 500;
/** The error kept with an item the breaker handed back unstarted on its last attempt. */
export const BREAKER_HAND_BACK_ERROR = 'circuit breaker opened before this item ran, on its last attempt';

export type WorkerState = 'running' | 'stopping' | 'stopped' | BreakerState;

export interface WorkerStatus {
  id: string;
  domain: string;
  priority?: string;
  state: WorkerState;
  inFlight: number;
  processed: number;
  failed: number;
  consecutiveFailures: number;
}

export interface WorkerDeps {
  queue: KanbanQueue;
  server: KanbanServer;
  options: KanbanResolvedOptions;
  metrics: KanbanMetrics;
  /** Shared by the pool's workers: a retry may run on another worker of the same handler. */
  spans: HandlerSpans;
}

type Outcome = { kind: 'done'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/**
 * One pull loop: pulls up to the handler's pull size, runs the items one at a time through the
 * handler (a batch handler: all at once), settles each exactly once, and pulls again. Never holds
 * more than the pull size. Every limit is the handler's policy (its options, else the module's).
 *
 * Settles are pipelined: an item's ack (nack, retry, dead-letter) is started when its handler
 * finishes and the next item's handler starts without waiting for it; every settle of a batch has
 * landed (or failed and been logged) before the worker pulls again or stops. So a settle's round
 * trip (a confirmed ack on NATS, a group commit on the embedded store) is off the per-item path,
 * while the bound on what a worker holds and the "each item settled exactly once" rule stay.
 * A lease extension is the exception: it is awaited before the item's handler runs.
 */
export class KanbanWorker {
  private readonly logger: Logger;
  private readonly breaker: CircuitBreaker;
  private readonly leaseMs: number;
  private running = false;
  private looping = false;
  private loop?: Promise<void>;
  private pullAbort?: AbortController;
  /** The batch being worked on and how many of its items have been started (status().inFlight). */
  private batch: Delivery[] = [];
  private started = 0;
  /** Settles started and not yet landed; awaited before the next pull. */
  private settling: Promise<void>[] = [];
  private processed = 0;
  private failed = 0;
  /** Ends the running handler's race as a timeout; unset between items. */
  private onTimeout?: () => void;
  private handlerTimer?: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly handler: DiscoveredHandler,
    private readonly deps: WorkerDeps,
  ) {
    this.logger = new Logger(`KanbanWorker ${id}`);
    const { circuitBreaker, processTimeoutMs } = handler.policy;
    // `circuitBreaker: false`: a breaker no run of failures reaches.
    this.breaker = circuitBreaker ? new CircuitBreaker(circuitBreaker.threshold, circuitBreaker.cooldownMs) : new CircuitBreaker(Number.POSITIVE_INFINITY, 0);
    this.leaseMs = leaseMsFor({ ...deps.options, workerProcessTimeoutMs: processTimeoutMs });
  }

  private get timeoutMs(): number {
    return this.handler.policy.processTimeoutMs;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.breaker.reset();
    this.setBreakerMetric(0);
    this.loop = this.run();
  }

  /** Closes an open or half-open breaker so the worker pulls again at once. Returns whether it was open. */
  resetBreaker(): boolean {
    if (this.breaker.state === 'closed') return false;
    this.breaker.reset();
    this.setBreakerMetric(0);
    return true;
  }

  /** Stops pulling, lets the items already pulled finish, then resolves. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    this.pullAbort?.abort();
    await this.loop;
  }

  status(): WorkerStatus {
    const breaker = this.breaker.state;
    return {
      id: this.id,
      domain: this.handler.domain,
      priority: this.handler.priority,
      state: breaker !== 'closed' ? breaker : this.running ? 'running' : this.looping ? 'stopping' : 'stopped',
      inFlight: this.batch.length - this.started + this.settling.length,
      processed: this.processed,
      failed: this.failed,
      consecutiveFailures: this.breaker.consecutiveFailures,
    };
  }

  private async run(): Promise<void> {
    this.looping = true;
    while (this.running) {
      const breaker = this.breaker.state;
      if (breaker === 'open') {
        await sleep(WORKER_PULL_ERROR_BACKOFF_MS);
        continue;
      }
      const batch = await this.pullBatch(breaker === 'half_open' ? 1 : this.handler.policy.pullSize);
      this.batch = batch;
      this.started = 0;
      try {
        if (this.handler.policy.batch) {
          this.started = batch.length;
          await this.processBatch(batch);
        } else {
          await this.processEach(batch);
        }
      } finally {
        // Every settle of this batch lands before the next pull (or before stop() resolves).
        await this.settled();
        this.batch = [];
        this.started = 0;
      }
    }
    clearTimeout(this.handlerTimer);
    this.handlerTimer = undefined;
    this.running = false;
    this.looping = false;
  }

  private pullBatch(max: number): Promise<Delivery[]> {
    const { batch } = this.handler.policy;
    if (!batch) return this.pullOnce(max, WORKER_PULL_WAIT_MS);
    return collectBatch(
      (n, waitMs) => this.pullOnce(n, waitMs),
      max,
      batch.waitMs,
      WORKER_PULL_WAIT_MS,
      () => this.running,
    );
  }

  private async pullOnce(max: number, waitMs: number): Promise<Delivery[]> {
    this.pullAbort = new AbortController();
    try {
      return await this.deps.queue.pull({
        domain: this.handler.domain,
        priority: this.handler.priority,
        max,
        waitMs,
        signal: this.pullAbort.signal,
      });
    } catch (error) {
      this.logger.error(`Pull failed: ${(error as Error).message}`);
      await sleep(WORKER_PULL_ERROR_BACKOFF_MS);
      return [];
    }
  }

  private async settled(): Promise<void> {
    while (this.settling.length > 0) {
      const pending = this.settling;
      this.settling = [];
      await Promise.all(pending);
    }
  }

  private async processEach(batch: Delivery[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      if (this.breaker.state === 'open') {
        this.started = batch.length;
        this.returnToQueue(batch.slice(i));
        return;
      }
      this.started = i + 1;
      await this.process(batch[i]);
    }
  }

  private async process(delivery: Delivery): Promise<void> {
    if (this.expired(delivery)) return;
    await this.keepLeaseForRun([delivery]);
    const abort = new AbortController();
    const startedAt = performance.now();
    const span = this.deps.spans.start(delivery.item);
    const outcome = await this.runHandler(delivery.item.payload, new KanbanContext([delivery, abort, this.id]), abort, span);
    span?.end(failureOf(outcome, this.timeoutMs));
    this.recordRun(delivery.priority, outcome, startedAt);
    if (outcome.kind === 'done') return this.onResult(delivery, outcome.value);
    if (outcome.kind === 'timeout') return this.onTimedOut(delivery);
    this.onError(delivery, outcome.error);
  }

  /**
   * One handler call for the whole batch (expired items dead-lettered first), then each item
   * settled by its own result; a throw or a timeout settles every item by that.
   */
  private async processBatch(deliveries: Delivery[]): Promise<void> {
    const live = deliveries.filter((delivery) => !this.expired(delivery));
    if (live.length === 0) return;
    await this.keepLeaseForRun(live);
    const abort = new AbortController();
    const contexts = live.map((delivery) => new KanbanContext([delivery, abort, this.id]));
    const startedAt = performance.now();
    const span = this.deps.spans.startBatch(live.map((delivery) => delivery.item));
    const outcome = await this.runHandler(
      live.map((delivery) => delivery.item.payload),
      contexts,
      abort,
      span,
    );
    span?.end(failureOf(outcome, this.timeoutMs));
    // One run for the batch; a domain handler's batch may mix priorities, so it counts under its own ('all').
    this.recordRun(this.handler.priority ?? 'all', outcome, startedAt);
    if (outcome.kind === 'timeout') return live.forEach((delivery) => this.onTimedOut(delivery));
    if (outcome.kind === 'error') return live.forEach((delivery) => this.onError(delivery, outcome.error));
    const results = batchResults(outcome.value, live.length);
    live.forEach((delivery, i) => (results[i] instanceof Error ? this.onError(delivery, results[i]) : this.onResult(delivery, results[i])));
  }

  /** Dead-letters an item whose deadline passed while it waited in the worker; true when it did. */
  private expired(delivery: Delivery): boolean {
    const { item } = delivery;
    if (item.deadline > Date.now()) return false;
    this.settle(delivery, () => this.deps.queue.deadLetter(item.id, item.domain, delivery.lease, 'deadline_exceeded', 'deadline passed while waiting in the worker'));
    return true;
  }

  private onTimedOut(delivery: Delivery): void {
    const { item } = delivery;
    this.onFailure(delivery, `handler exceeded ${this.timeoutMs} ms`);
    this.settle(delivery, () => this.deps.queue.deadLetter(item.id, item.domain, delivery.lease, 'processing_timeout', `handler ran longer than ${this.timeoutMs} ms`));
  }

  /** Items wait their turn (or for a batch to fill); make sure each lease outlives the run plus half the grace. */
  private async keepLeaseForRun(deliveries: Delivery[]): Promise<void> {
    const timeout = this.timeoutMs;
    const short = deliveries.filter((delivery) => delivery.leaseExpiresAt - Date.now() < timeout + (this.leaseMs - timeout) / 2);
    if (short.length === 0) return;
    for (const delivery of short) this.settle(delivery, () => this.deps.queue.extendLease(delivery.item.id, delivery.item.domain, delivery.lease, this.leaseMs));
    // The extensions are the one settle the handler waits for: the run must start under the longer leases.
    await this.settled();
  }

  /**
   * One timer per worker, re-armed for each item (items run one at a time), and the handler's
   * abort signal made only if the handler asks for it or the run times out: a timer, a promise
   * race and an AbortSignal per item were 5 % of the CPU time of a no-op handler.
   */
  private runHandler(payload: unknown, context: KanbanContext | KanbanContext[], abort: AbortController, span?: HandlerSpan): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      this.onTimeout = () => {
        abort.abort();
        resolve({ kind: 'timeout' });
      };
      this.armHandlerTimer();
      const dispatch = () => this.deps.server.dispatch(this.handler.pattern, payload, context);
      (span ? span.run(dispatch) : dispatch()).then(
        (value) => resolve({ kind: 'done', value }),
        (error: unknown) => resolve({ kind: 'error', error }),
      );
    }).finally(() => {
      this.onTimeout = undefined;
    });
  }

  private armHandlerTimer(): void {
    if (this.handlerTimer) {
      this.handlerTimer.refresh();
      return;
    }
    this.handlerTimer = setTimeout(() => this.onTimeout?.(), this.timeoutMs);
  }

  private onResult(delivery: Delivery, value: unknown): void {
    if (value instanceof KanbanNack || value instanceof KanbanRetry) return this.onError(delivery, value);
    const { item } = delivery;
    const wasClosed = this.breaker.state === 'closed';
    this.breaker.recordSuccess();
    // The gauge only changes when the breaker does (it is set to 0 on start): not a prom-client call per item.
    if (!wasClosed) this.setBreakerMetric(0);
    this.processed++;
    this.settle(delivery, () => this.deps.queue.ack(item.id, item.domain, delivery.lease));
  }

  private onError(delivery: Delivery, error: unknown): void {
    const { item } = delivery;
    const { queue } = this.deps;
    if (error instanceof KanbanNack) {
      this.settle(delivery, () => queue.nack(item.id, item.domain, delivery.lease, error.reason));
      return;
    }
    if (isBadRequest(error)) {
      this.settle(delivery, () => queue.nack(item.id, item.domain, delivery.lease, `payload rejected: ${describe(error)}`));
      return;
    }
    const message = describe(error);
    if (!(error instanceof KanbanRetry)) this.onFailure(delivery, message);
    const delay = error instanceof KanbanRetry ? error.delayMs : backoffDelayMs(this.handler.policy.backoff, item.attempts);
    this.settle(delivery, () => queue.retry(item.id, item.domain, delivery.lease, delay, message, this.deps.spans.retryHeaders(item)));
  }

  private onFailure(delivery: Delivery, message: string): void {
    this.failed++;
    const opened = this.breaker.recordFailure(delivery.item.id);
    const count = this.breaker.consecutiveFailures;
    this.logger.warn(`Item ${delivery.item.id} failed (attempt ${delivery.item.attempts}, consecutive failure ${count}): ${message}`);
    if (opened) {
      this.setBreakerMetric(1);
      this.logger.error(
        `ALERT circuit breaker open for ${this.handler.pattern} worker ${this.id} after ${count} items failed in a row: investigate; it probes one item after ${this.breaker.cooldownMs} ms, or reset it through the coordinator`,
      );
    }
  }

  /**
   * Circuit open: items pulled but not started go back to the queue at once, through the queue's
   * retry rule, so one on its last attempt is dead-lettered as `max_attempts` (its delivery counted).
   */
  private returnToQueue(rest: Delivery[]): void {
    for (const delivery of rest) {
      this.settle(delivery, () => this.deps.queue.retry(delivery.item.id, delivery.item.domain, delivery.lease, 0, BREAKER_HAND_BACK_ERROR));
    }
    if (rest.length) this.logger.warn(`Returned ${rest.length} unstarted item(s) to the queue because the circuit breaker opened`);
  }

  /**
   * Starts a settle without waiting for it; `settled()` waits for all started ones. A settle that
   * fails leaves the item leased; it is redelivered when the lease lapses, so it is logged, not lost.
   */
  private settle(delivery: Delivery, action: () => Promise<unknown>): void {
    let started: Promise<unknown>;
    try {
      started = action();
    } catch (error) {
      started = Promise.reject(error);
    }
    this.settling.push(
      started.then(
        () => undefined,
        (error: unknown) => {
          const level = error instanceof LeaseExpiredError ? 'warn' : 'error';
          this.logger[level](`Settling item ${delivery.item.id} failed: ${(error as Error).message}`);
        },
      ),
    );
  }

  private recordRun(priority: string, outcome: Outcome, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1_000;
    this.deps.metrics.handlerDuration.observe({ priority, domain: this.handler.domain, outcome: handlerOutcome(outcome) }, seconds);
  }

  private setBreakerMetric(value: number): void {
    this.deps.metrics.circuitBreakerOpen.set({ priority: this.handler.priority ?? 'all', domain: this.handler.domain, worker: this.id }, value);
  }
}

function handlerOutcome(outcome: Outcome): HandlerOutcome {
  if (outcome.kind === 'timeout') return 'timeout';
  const result = outcome.kind === 'done' ? outcome.value : outcome.error;
  if (result instanceof KanbanNack) return 'nack';
  if (result instanceof KanbanRetry) return 'retry';
  return outcome.kind === 'done' ? 'ok' : 'error';
}

/** What failed in a handler run, for its span; undefined when it succeeded. */
function failureOf(outcome: Outcome, timeoutMs: number): string | undefined {
  if (outcome.kind === 'timeout') return `handler exceeded ${timeoutMs} ms`;
  if (outcome.kind === 'error') return describe(outcome.error);
  if (outcome.value instanceof KanbanNack) return `nack: ${outcome.value.reason}`;
  if (outcome.value instanceof KanbanRetry) return 'retry';
  return undefined;
}

function isBadRequest(error: unknown): boolean {
  const status = (error as { getStatus?: () => unknown })?.getStatus;
  return typeof status === 'function' && status.call(error) === 400;
}

function describe(error: unknown): string {
  const response = (error as { getResponse?: () => unknown })?.getResponse;
  if (typeof response === 'function') {
    const body = response.call(error) as { message?: unknown } | string;
    const message = typeof body === 'string' ? body : body?.message;
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : (error as Error).message;
  }
  return error instanceof Error ? error.message : String(error);
}
