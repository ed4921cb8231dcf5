import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { KanbanHealthModule, QueueHealthIndicator, TransportHealthIndicator, WorkersHealthIndicator } from '@tps/kanban';

// `broker`: the transport's last known state (reads it, opens no connection).
// `queue`: down while draining, degraded while a queue's backlog is above highWatermark.
// `workers`: degraded while some circuit breakers are open, down when every worker's is.
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly broker: TransportHealthIndicator,
    private readonly queue: QueueHealthIndicator,
    private readonly workers: WorkersHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.broker.check('broker'), () => this.queue.check('queue'), () => this.workers.check('workers')]);
  }
}

// Import beside KanbanModule.forRoot(...): KanbanHealthModule brings TerminusModule and the three indicators.
@Module({ imports: [KanbanHealthModule], controllers: [HealthController] })
export class HealthModule {}
