import { Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CanaryModule } from '../canary/canary.module';
import { QueueModule } from '../queue/queue.module';
import { KanbanScheduler } from './kanban-scheduler';

/**
 * Provides `KanbanScheduler`: periodic, cron and canary publishing. Needs KanbanCoreModule; brings
 * QueueModule and CanaryModule.
 *
 * Kanban's schedules live in a SchedulerRegistry of their own, not in ScheduleModule.forRoot():
 * a second forRoot beside the app's would mount the app's own @Interval and @Cron jobs twice,
 * and the app's registry stays free of kanban's job names. Works with or without the app's forRoot.
 */
@Module({
  imports: [QueueModule, CanaryModule],
  providers: [SchedulerRegistry, KanbanScheduler],
  exports: [CanaryModule, KanbanScheduler],
})
export class SchedulerModule {}
