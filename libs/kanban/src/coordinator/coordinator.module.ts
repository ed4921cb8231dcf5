import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { WorkerModule } from '../worker/worker.module';
import { KanbanCoordinator } from './kanban-coordinator';

@Module({
  imports: [QueueModule, WorkerModule, SchedulerModule],
  providers: [KanbanCoordinator],
  exports: [KanbanCoordinator],
})
export class CoordinatorModule {}
