import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DEPTH_SAMPLE_COUNT, KANBAN_OPTIONS, KANBAN_TRANSPORT } from '../kanban.constants';
import { KanbanValidationError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { QueueDepth } from '../interfaces/queue-depth.interface';
import { KanbanMetrics } from '../metrics/kanban-metrics';
import { KanbanQueue } from '../queue/kanban-queue';
import { KanbanTransport } from '../transport/kanban-transport';
import { KanbanWorkerPool } from '../worker/kanban-worker-pool';
import type { DiscoveredHandler } from '../worker/kanban-handler.explorer';
import { CanaryTracker } from '../canary/canary-tracker';
import type { CoordinatorHealth } from './coordinator-health.interface';

/**
 * Watches the queues every coordinatorCheckIntervalMs: samples depth, autoscales workers between
 * minWorkers and maxWorkers, and dead-letters stalled items. Drains on shutdown.
 */
@Injectable()
export class KanbanCoordinator implements OnApplicationBootstrap, BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger('KanbanCoordinator');
  private readonly samples: number[] = [];
  private latestDepth: QueueDepth[] = [];
  private latestDepthAt?: number;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private manualTarget?: number;
  private draining?: Promise<void>;

  constructor(
    private readonly queue: KanbanQueue,
    private readonly pool: KanbanWorkerPool,
    private readonly metrics: KanbanMetrics,
    private readonly canaries: CanaryTracker,
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.check(), this.options.coordinatorCheckIntervalMs);
    this.timer.unref();
    // Readers of the samples (health, GET /queues) get real figures from the start, not after a first interval.
    this.checking = this.sampleDepth()
      .catch((error: unknown) => this.logger.error(`First depth sample failed: ${(error as Error).message}`))
      .finally(() => (this.checking = undefined));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drainQueue();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The most recent per-queue depth the coordinator sampled. */
  get lastDepth(): readonly QueueDepth[] {
    return this.latestDepth;
  }

  /** When `lastDepth` was read (epoch ms); undefined before the first sample. */
  get lastDepthAt(): number | undefined {
    return this.latestDepthAt;
  }

  getHealth(): CoordinatorHealth {
    const status = this.transport.currentStatus;
    return {
      current_workers: this.pool.currentWorkers(),
      target_workers: this.targetWorkers(),
      queue_depth_samples: [...this.samples],
      queue_draining: this.queue.isDraining,
      timestamp: Date.now(),
      broker: { active: status.active, state: status.state },
      open_circuit_breakers: this.pool.status().filter((w) => w.state === 'open' || w.state === 'half_open').length,
      canaries: this.canaries.results(),
    };
  }

  /**
   * Sets the number of workers per handler and holds it (autoscaling pauses) until
   * `resumeAutoscale()`. Also restarts workers whose breaker is open.
   * @throws KanbanValidationError when count is not an integer in [0, maxWorkers].
   */
  async adjustWorkers(count: number): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.options.maxWorkers) {
      throw new KanbanValidationError([{ field: 'count', message: `must be an integer from 0 to maxWorkers (${this.options.maxWorkers})` }]);
    }
    this.manualTarget = count;
    await this.pool.restartOpenBreakers();
    await Promise.all(this.pool.handlers.map((h) => this.pool.scale(h.pattern, count)));
    this.logger.log(`Workers adjusted to ${count} per handler (autoscaling paused)`);
  }

  /**
   * Closes every open circuit breaker at once, for when the cause (a downstream outage) is fixed
   * before the cooldown's probe. Returns how many were open.
   */
  resetCircuitBreakers(): number {
    const closed = this.pool.resetOpenBreakers();
    this.logger.log(`Closed ${closed} open circuit breaker(s) on request`);
    return closed;
  }

  resumeAutoscale(): void {
    this.manualTarget = undefined;
  }

  /** Refuses new work, lets in-flight work finish, then stops the workers. Idempotent. */
  drainQueue(): Promise<void> {
    this.draining ??= (async () => {
      this.queue.stopIntake();
      clearInterval(this.timer);
      await this.checking;
      await this.pool.stopAll();
      this.logger.log('Drained: in-flight work finished and workers stopped');
    })();
    return this.draining;
  }

  /** One coordinator round; also run by the timer. Errors are logged and the next round tries again. */
  async check(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = this.runCheck().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    try {
      await this.sampleDepth();
      await this.queue.sweepStalled();
      if (!this.queue.isDraining) await this.autoscale();
    } catch (error) {
      this.logger.error(`Coordinator check failed: ${(error as Error).message}`);
    }
  }

  private async sampleDepth(): Promise<void> {
    const readAt = Date.now();
    this.latestDepth = await this.queue.depth();
    this.latestDepthAt = readAt;
    this.recordSample(this.latestDepth);
  }

  private recordSample(depth: QueueDepth[]): void {
    this.metrics.queueDepth.reset();
    let total = 0;
    for (const q of depth) {
      const size = q.ready + q.inFlight;
      total += size;
      this.metrics.queueDepth.set({ priority: q.priority, domain: q.domain, broker: q.broker }, size);
    }
    this.samples.push(total);
    if (this.samples.length > DEPTH_SAMPLE_COUNT) this.samples.shift();
    this.metrics.queueDepthAvg.set(this.samples.reduce((a, b) => a + b, 0) / this.samples.length);
  }

  private async autoscale(): Promise<void> {
    if (!this.options.autoscale || this.manualTarget !== undefined) return;
    for (const handler of this.pool.handlers) {
      const { wanted, backlog } = this.wantedWorkers(handler);
      const current = this.pool.workerCount(handler.pattern);
      if (wanted !== current) {
        this.logger.log(`Autoscale ${handler.pattern}: ${current} -> ${wanted} workers (backlog ${backlog})`);
        await this.pool.scale(handler.pattern, wanted);
      }
    }
  }

  private targetWorkers(): number {
    const handlers = this.pool.handlers;
    if (this.manualTarget !== undefined) return this.manualTarget * handlers.length;
    return handlers.reduce((n, handler) => n + this.wantedWorkers(handler).wanted, 0);
  }

  /** One worker per scaleUpDepthPerWorker items of backlog, within [max(minWorkers, 1), maxWorkers]. */
  private wantedWorkers(handler: DiscoveredHandler): { wanted: number; backlog: number } {
    const backlog = this.latestDepth
      .filter((q) => q.domain === handler.domain && (!handler.priority || q.priority === handler.priority))
      .reduce((sum, q) => sum + q.ready, 0);
    const { minWorkers, maxWorkers, scaleUpDepthPerWorker } = this.options;
    return { wanted: Math.min(maxWorkers, Math.max(minWorkers, 1, Math.ceil(backlog / scaleUpDepthPerWorker))), backlog };
  }
}
