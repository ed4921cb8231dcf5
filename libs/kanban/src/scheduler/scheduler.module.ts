import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { QueueModule } from '../queue/queue.module';
import { CanaryTracker } from './canary-tracker';
import { KanbanScheduler } from './kanban-scheduler';

@Module({
  imports: [ScheduleModule.forRoot(), QueueModule],
  providers: [CanaryTracker, KanbanScheduler],
  exports: [CanaryTracker, KanbanScheduler],
})
export class SchedulerModule {}
