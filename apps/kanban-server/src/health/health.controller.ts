import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors, HealthCheckResultSchema } from '../openapi';
import { QueueHealthIndicator, TransportHealthIndicator, WorkersHealthIndicator } from '@tps/kanban';

/**
 * The broker indicator without its `detail`: that text names broker hosts and the outbox file, and
 * `/health` answers without a token. The transports log each state change with the detail.
 */
function withoutDetail(result: HealthIndicatorResult): HealthIndicatorResult {
  return Object.fromEntries<HealthIndicatorResult[string]>(Object.entries(result).map(([key, { detail: _detail, ...rest }]) => [key, rest]));
}

/** Terminus: 200 while every indicator is up or degraded, 503 once one is down (broker lost, draining). */
@ApiTags('health')
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
  @ApiOperation({ summary: 'Terminus health: broker, queue, workers' })
  @ApiOkResponse({ type: HealthCheckResultSchema, description: 'Every indicator up or degraded' })
  @ApiServiceUnavailableResponse({ type: HealthCheckResultSchema, description: 'An indicator is down (broker lost, draining); the same document, not an ErrorBody' })
  @ApiErrors()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => withoutDetail(this.broker.check()), () => this.queue.check(), () => this.workers.check()]);
  }
}
