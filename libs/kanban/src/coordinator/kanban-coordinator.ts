import { hostname } from 'node:os';
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
import { SettleRelay } from '../relay/settle-relay';
import type { FleetInstance } from '../transport/fleet-membership.interface';
import type { CoordinatorHealth } from './coordinator-health.interface';
import { FLEET_MEMBER_TTL_ROUNDS } from './coordinator.constants';
import { fleetShare } from './fleet-share';
import { FleetView } from './fleet-view';

/**
 * Watches the queues every coordinatorCheckIntervalMs: samples depth, announces this instance to
 * the fleet and reads the fleet back, autoscales its share of the workers the shared depth needs
 * (between minWorkers and maxWorkers), and, while it holds the coordinator lease, dead-letters
 * stalled items for the whole fleet. Drains on shutdown, leaving the fleet first.
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
  private readonly fleet: FleetView;
  private readonly shrinking = new Set<Promise<void>>();
  private readonly startedAt = Date.now();
  private readonly host = hostname();

  constructor(
    private readonly queue: KanbanQueue,
    private readonly pool: KanbanWorkerPool,
    private readonly metrics: KanbanMetrics,
    private readonly canaries: CanaryTracker,
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
    private readonly relay: SettleRelay,
  ) {
    const coordination = transport.fleetCoordination({ memberTtlMs: FLEET_MEMBER_TTL_ROUNDS * options.coordinatorCheckIntervalMs, leaseMs: options.coordinatorLeaseMs });
    this.fleet = new FleetView(relay.holder, coordination, this.logger);
  }

  onApplicationBootstrap(): void {
    this.fleet.start();
    this.timer = setInterval(() => void this.check(), this.options.coordinatorCheckIntervalMs);
    this.timer.unref();
    // Readers of the samples (health, GET /queues) and the other instances get real figures from the start, not after a first interval.
    this.checking = this.sampleDepth()
      .catch((error: unknown) => this.logger.error(`First depth sample failed: ${(error as Error).message}`))
      .then(() => this.fleet.refresh(this.selfRecord()))
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
      fleet: this.fleet.health(this.selfRecord(), this.samples.at(-1) ?? null),
    };
  }

  /** True while this instance sweeps stalled items for the fleet (it holds the coordinator lease, or it is the fleet alone). */
  isSweepLeader(): boolean {
    return this.fleet.isSweepLeader();
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

  /**
   * Refuses new work, leaves the fleet (the others take over its share and, if it held it, the
   * sweep), lets in-flight work finish, then stops the workers. Idempotent.
   */
  drainQueue(): Promise<void> {
    this.draining ??= (async () => {
      this.queue.stopIntake();
      clearInterval(this.timer);
      await this.checking;
      await this.fleet.leave();
      await Promise.all([this.pool.stopAll(), ...this.shrinking]);
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
      await this.fleet.refresh(this.selfRecord());
      if (this.isSweepLeader()) {
        await this.queue.sweepStalled();
        this.metrics.stalledSweeps.inc();
      }
      if (!this.queue.isDraining) await this.autoscale();
    } catch (error) {
      this.logger.error(`Coordinator check failed: ${(error as Error).message}`);
    }
  }

  /** What this instance announces: its own figures, read now. */
  private selfRecord(): FleetInstance {
    const status = this.transport.currentStatus;
    const depth = this.samples.at(-1);
    return {
      id: this.relay.holder,
      host: this.host,
      pid: process.pid,
      started_at: this.startedAt,
      current_workers: this.pool.currentWorkers(),
      target_workers: this.targetWorkers(),
      draining: this.queue.isDraining,
      broker: { active: status.active, state: status.state },
      last_sample: depth !== undefined && this.latestDepthAt !== undefined ? { depth, at: this.latestDepthAt } : null,
      sweep_leader: this.isSweepLeader(),
      announced_at: Date.now(),
    };
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
    let outbox = 0;
    for (const q of depth) {
      const size = q.ready + q.inFlight;
      total += size;
      if (q.broker === 'outbox') outbox += size;
      this.metrics.queueDepth.set({ priority: q.priority, domain: q.domain, broker: q.broker }, size);
    }
    this.metrics.outboxItems.set(outbox);
    this.samples.push(total);
    if (this.samples.length > DEPTH_SAMPLE_COUNT) this.samples.shift();
    this.metrics.queueDepthAvg.set(this.samples.reduce((a, b) => a + b, 0) / this.samples.length);
  }

  private async autoscale(): Promise<void> {
    if (!this.options.autoscale || this.manualTarget !== undefined) return;
    for (const handler of this.pool.handlers) {
      const { wanted, backlog } = this.wantedWorkers(handler);
      const current = this.pool.workerCount(handler.pattern);
      if (wanted === current) continue;
      this.logger.log(`Autoscale ${handler.pattern}: ${current} -> ${wanted} workers (backlog ${backlog})`);
      if (wanted > current) await this.pool.scale(handler.pattern, wanted);
      else this.shrinkInBackground(handler.pattern, wanted);
    }
  }

  /**
   * Workers leaving finish their in-flight items without holding up the round: a long handler
   * would otherwise stop this instance's announcements and drop it from the fleet. The drain
   * waits for them.
   */
  private shrinkInBackground(pattern: string, count: number): void {
    const shrinking = this.pool
      .scale(pattern, count)
      .catch((error: unknown) => this.logger.error(`Scaling ${pattern} down to ${count} failed: ${(error as Error).message}`))
      .finally(() => this.shrinking.delete(shrinking));
    this.shrinking.add(shrinking);
  }

  private targetWorkers(): number {
    const handlers = this.pool.handlers;
    if (this.manualTarget !== undefined) return this.manualTarget * handlers.length;
    return handlers.reduce((n, handler) => n + this.wantedWorkers(handler).wanted, 0);
  }

  /**
   * One worker per scaleUpDepthPerWorker items of the shared backlog across the fleet, this
   * instance taking its share (see fleetShare), within [max(minWorkers, 1), maxWorkers]; a
   * handler's `concurrency` is fixed.
   */
  private wantedWorkers(handler: DiscoveredHandler): { wanted: number; backlog: number } {
    const backlog = this.latestDepth.filter((q) => q.domain === handler.domain && (!handler.priority || q.priority === handler.priority)).reduce((sum, q) => sum + q.ready, 0);
    if (handler.policy.concurrency !== undefined) return { wanted: handler.policy.concurrency, backlog };
    const { minWorkers, maxWorkers, scaleUpDepthPerWorker } = this.options;
    const share = fleetShare(Math.ceil(backlog / scaleUpDepthPerWorker), this.fleet.sharingIds(), this.relay.holder);
    return { wanted: Math.min(maxWorkers, Math.max(minWorkers, 1, share)), backlog };
  }
}
