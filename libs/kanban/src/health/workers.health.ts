import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { KanbanWorkerPool } from '../worker/kanban-worker-pool';
import { degradedResult } from './degraded-result';

/** Degraded while some circuit breakers are open; down when every worker's is. Names each open breaker's worker and queue. */
@Injectable()
export class WorkersHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly pool: KanbanWorkerPool,
  ) {}

  check(key = 'workers'): HealthIndicatorResult {
    const session = this.health.check(key);
    const workers = this.pool.status();
    const open = workers
      .filter((w) => w.state === 'open' || w.state === 'half_open')
      .map((w) => ({ worker: w.id, domain: w.domain, priority: w.priority, state: w.state, consecutiveFailures: w.consecutiveFailures }));
    const data = { running: this.pool.currentWorkers(), openCircuitBreakers: open };
    if (open.length === 0) return session.up(data);
    return open.length === workers.length ? session.down(data) : degradedResult(session, data);
  }
}
