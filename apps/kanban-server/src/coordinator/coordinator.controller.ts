import { Body, Controller, Get, HttpCode, HttpStatus, Logger, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiTokenRequired, BreakersResetSchema, CoordinatorHealthSchema, JSON_BODY_ERRORS } from '../openapi';
import { KanbanCoordinator, type CoordinatorHealth } from '@tps/kanban';
import { AdjustWorkersDto } from './dto/adjust-workers.dto';

@ApiTags('coordinator')
@Controller('coordinator')
export class CoordinatorController {
  private readonly logger = new Logger(CoordinatorController.name);

  constructor(private readonly coordinator: KanbanCoordinator) {}

  /**
   * The spec's shape for this instance (current_workers, target_workers, queue_depth_samples,
   * queue_draining, timestamp) and `fleet`: the live instances, the sweep leader, total workers
   * and depth, as the coordinator last read them (no broker call per request).
   */
  @Get('health')
  @ApiOperation({ summary: "The coordinator's health: workers, depth samples, draining, broker, canaries, fleet" })
  @ApiOkResponse({ type: CoordinatorHealthSchema })
  @ApiErrors()
  health(): CoordinatorHealth {
    return this.coordinator.getHealth();
  }

  /** Sets the workers per handler (autoscaling pauses) and restarts those with an open breaker. */
  @Post('workers')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Set the workers per handler (autoscaling pauses); restarts workers with an open breaker' })
  @ApiOkResponse({ type: CoordinatorHealthSchema })
  @ApiTokenRequired()
  @ApiErrors(...JSON_BODY_ERRORS)
  async adjustWorkers(@Body() dto: AdjustWorkersDto): Promise<CoordinatorHealth> {
    await this.coordinator.adjustWorkers(dto.count);
    return this.coordinator.getHealth();
  }

  /** Closes every open circuit breaker: the workers pull again without waiting for the cooldown's probe. */
  @Post('breakers/reset')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Close every open circuit breaker' })
  @ApiOkResponse({ type: BreakersResetSchema })
  @ApiTokenRequired()
  @ApiErrors()
  resetBreakers(): { closed: number } {
    return { closed: this.coordinator.resetCircuitBreakers() };
  }

  /**
   * 202: intake stops at once (publishes get 503 from now on); in-flight work finishes in the
   * background, then the workers stop. Irreversible until restart, as at shutdown.
   */
  @Post('drain')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Drain: stop intake now, finish in-flight work, stop the workers (until restart)' })
  @ApiAcceptedResponse({ type: CoordinatorHealthSchema })
  @ApiTokenRequired()
  @ApiErrors()
  drain(): CoordinatorHealth {
    this.logger.log('Drain requested over HTTP');
    this.coordinator.drainQueue().catch((error: unknown) => this.logger.error(`Drain failed: ${(error as Error).message}`));
    return this.coordinator.getHealth();
  }
}
