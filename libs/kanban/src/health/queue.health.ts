import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { KANBAN_OPTIONS } from '../kanban.constants';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { KanbanCoordinator } from '../coordinator/kanban-coordinator';
import { KanbanQueue } from '../queue/kanban-queue';
import { degradedResult } from './degraded-result';

/** Down while draining (stop routing work here); degraded while a queue's backlog is above the high watermark. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly queue: KanbanQueue,
    private readonly coordinator: KanbanCoordinator,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  check(key = 'queue'): HealthIndicatorResult {
    const session = this.health.check(key);
    const depth = this.coordinator.lastDepth;
    const backlog = depth.reduce((n, q) => n + q.ready, 0);
    const over = depth.filter((q) => q.ready > this.options.highWatermark).map((q) => `${q.priority}.${q.domain}`);
    const data = { draining: this.queue.isDraining, backlog, overHighWatermark: over };
    if (this.queue.isDraining) return session.down(data);
    return over.length ? degradedResult(session, data) : session.up(data);
  }
}
