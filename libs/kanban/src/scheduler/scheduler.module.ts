import { Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { QueueModule } from '../queue/queue.module';
import { CanaryTracker } from './canary-tracker';
import { KanbanScheduler } from './kanban-scheduler';

/**
 * Kanban's schedules live in a SchedulerRegistry of their own, not in ScheduleModule.forRoot():
 * a second forRoot beside the app's would mount the app's own @Interval and @Cron jobs twice,
 * and the app's registry stays free of kanban's job names. Works with or without the app's forRoot.
 */
@Module({
  imports: [QueueModule],
  providers: [SchedulerRegistry, CanaryTracker, KanbanScheduler],
  exports: [CanaryTracker, KanbanScheduler],
})
export class SchedulerModule {}
