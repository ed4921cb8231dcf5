import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { KANBAN_OPTIONS } from '../kanban.constants';
import { KanbanError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { Priority } from '../interfaces/work-item.interface';
import { KanbanMetrics } from '../metrics/kanban-metrics';
import { KanbanQueue } from '../queue/kanban-queue';
import { HandlerSpans } from '../tracing/handler-spans';
import { KanbanHandlerExplorer, type DiscoveredHandler } from './kanban-handler.explorer';
import { KanbanWorker, type WorkerStatus } from './kanban-worker';
import { KanbanServer, handlerPattern } from './kanban.server';

interface WorkerGroup {
  handler: DiscoveredHandler;
  workers: KanbanWorker[];
  nextId: number;
}

/**
 * The worker pool: one group of workers per `@KanbanHandler`, started on bootstrap, scaled by the
 * coordinator, drained on shutdown.
 */
@Injectable()
export class KanbanWorkerPool implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('KanbanWorkerPool');
  private readonly groups = new Map<string, WorkerGroup>();
  private readonly spans = new HandlerSpans();

  constructor(
    private readonly explorer: KanbanHandlerExplorer,
    private readonly server: KanbanServer,
    private readonly queue: KanbanQueue,
    private readonly metrics: KanbanMetrics,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  onApplicationBootstrap(): void {
    for (const handler of this.explorer.handlers) this.groups.set(handler.pattern, { handler, workers: [], nextId: 1 });
    if (!this.options.startWorkers) return;
    for (const group of this.groups.values()) this.resize(group, group.handler.policy.concurrency ?? Math.max(this.options.minWorkers, 1));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopAll();
  }

  /** Patterns (`kanban.{priority|*}.{domain}`) that have a handler. */
  get handlers(): DiscoveredHandler[] {
    return [...this.groups.values()].map((g) => g.handler);
  }

  /** Starts workers for a handler's queue (at least `count`, or its `concurrency`, restarting stopped ones). @throws KanbanError when no handler consumes it. */
  start(domain: string, priority?: Priority, count = 1): void {
    const group = this.group(domain, priority);
    for (const worker of group.workers) worker.start();
    this.resize(group, Math.max(group.handler.policy.concurrency ?? count, group.workers.length));
  }

  /** Stops every worker of a handler's queue after its in-flight items finish. */
  async stop(domain: string, priority?: Priority): Promise<void> {
    const group = this.group(domain, priority);
    await this.shrink(group, 0);
  }

  /** Restarts workers whose circuit breaker is open (the spec's recovery). Returns how many. */
  async restartOpenBreakers(): Promise<number> {
    const open = [...this.groups.values()].flatMap((g) => g.workers).filter((w) => w.breakerState !== 'closed');
    await Promise.all(
      open.map(async (worker) => {
        await worker.stop();
        worker.start();
      }),
    );
    if (open.length) this.logger.log(`Restarted ${open.length} worker(s) with an open circuit breaker`);
    return open.length;
  }

  /** Closes every open or half-open breaker in place; the workers pull again without a restart. Returns how many. */
  resetOpenBreakers(): number {
    return [...this.groups.values()].flatMap((g) => g.workers).filter((w) => w.resetBreaker()).length;
  }

  status(): WorkerStatus[] {
    return [...this.groups.values()].flatMap((g) => g.workers.map((w) => w.status()));
  }

  /** Workers currently pulling (open breakers excluded). */
  currentWorkers(): number {
    return [...this.groups.values()].reduce((n, g) => n + g.workers.filter((w) => w.isRunning && w.breakerState === 'closed').length, 0);
  }

  /** Workers of one handler's group, open breakers included. */
  workerCount(pattern: string): number {
    return this.groups.get(pattern)?.workers.length ?? 0;
  }

  /** Sets the worker count of one handler's group; a handler with `concurrency` runs that many or none. */
  async scale(pattern: string, count: number): Promise<void> {
    const group = this.groups.get(pattern);
    if (!group) throw new KanbanError(`No @KanbanHandler consumes ${pattern}`, { pattern });
    const { concurrency } = group.handler.policy;
    if (concurrency !== undefined && count > 0) count = concurrency;
    if (count >= group.workers.length) this.resize(group, count);
    else await this.shrink(group, count);
  }

  /** Stops all workers; each finishes the items it already pulled. Idempotent. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => this.shrink(g, 0)));
  }

  private group(domain: string, priority?: Priority): WorkerGroup {
    const pattern = handlerPattern(domain, priority);
    const group = this.groups.get(pattern);
    if (!group) throw new KanbanError(`No @KanbanHandler consumes ${pattern}`, { pattern });
    return group;
  }

  private resize(group: WorkerGroup, count: number): void {
    while (group.workers.length < count) {
      const worker = new KanbanWorker(`${group.handler.pattern}#${group.nextId++}`, group.handler, {
        queue: this.queue,
        server: this.server,
        spans: this.spans,
        options: this.options,
        metrics: this.metrics,
      });
      group.workers.push(worker);
      worker.start();
    }
    this.reportWorkers(group);
  }

  /** Removes workers beyond `count`, those with an open breaker first, and waits for their in-flight items. */
  private async shrink(group: WorkerGroup, count: number): Promise<void> {
    const ordered = [...group.workers].sort((a, b) => Number(a.breakerState !== 'closed') - Number(b.breakerState !== 'closed'));
    const leaving = ordered.slice(count);
    group.workers = ordered.slice(0, count);
    this.reportWorkers(group);
    await Promise.all(leaving.map((w) => w.stop()));
  }

  private reportWorkers(group: WorkerGroup): void {
    const { domain, priority } = group.handler;
    this.metrics.currentWorkers.set({ priority: priority ?? 'all', domain }, group.workers.length);
  }
}
