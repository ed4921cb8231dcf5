import { Body, Controller, Get, HttpCode, HttpStatus, Logger, Post } from '@nestjs/common';
import { KanbanCoordinator, type CoordinatorHealth } from '@tps/kanban';
import { AdjustWorkersDto } from './dto/adjust-workers.dto';

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
  health(): CoordinatorHealth {
    return this.coordinator.getHealth();
  }

  /** Sets the workers per handler (autoscaling pauses) and restarts those with an open breaker. */
  @Post('workers')
  @HttpCode(HttpStatus.OK)
  async adjustWorkers(@Body() dto: AdjustWorkersDto): Promise<CoordinatorHealth> {
    await this.coordinator.adjustWorkers(dto.count);
    return this.coordinator.getHealth();
  }

  /** Closes every open circuit breaker: the workers pull again without waiting for the cooldown's probe. */
  @Post('breakers/reset')
  @HttpCode(HttpStatus.OK)
  resetBreakers(): { closed: number } {
    return { closed: this.coordinator.resetCircuitBreakers() };
  }

  /**
   * 202: intake stops at once (publishes get 503 from now on); in-flight work finishes in the
   * background, then the workers stop. Irreversible until restart, as at shutdown.
   */
  @Post('drain')
  @HttpCode(HttpStatus.ACCEPTED)
  drain(): CoordinatorHealth {
    this.logger.log('Drain requested over HTTP');
    this.coordinator.drainQueue().catch((error: unknown) => this.logger.error(`Drain failed: ${(error as Error).message}`));
    return this.coordinator.getHealth();
  }
}
