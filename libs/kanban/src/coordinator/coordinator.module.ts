import { Module } from '@nestjs/common';
import { CanaryModule } from '../canary/canary.module';
import { QueueModule } from '../queue/queue.module';
import { WorkerModule } from '../worker/worker.module';
import { KanbanCoordinator } from './kanban-coordinator';

/**
 * Provides `KanbanCoordinator`: depth sampling, autoscaling, the stalled-item sweep and the drain
 * on shutdown. Needs KanbanCoreModule; brings QueueModule, WorkerModule (the pool it scales) and
 * CanaryModule (the canaries its health reports).
 */
@Module({
  imports: [QueueModule, WorkerModule, CanaryModule],
  providers: [KanbanCoordinator],
  exports: [KanbanCoordinator],
})
export class CoordinatorModule {}
