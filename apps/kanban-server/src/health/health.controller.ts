import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { QueueHealthIndicator, TransportHealthIndicator, WorkersHealthIndicator } from '@tps/kanban';

/** Terminus: 200 while every indicator is up or degraded, 503 once one is down (broker lost, draining). */
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
    return this.health.check([() => this.broker.check(), () => this.queue.check(), () => this.workers.check()]);
  }
}
