import { Module } from '@nestjs/common';
import { DashboardAssetsController } from './dashboard-assets.controller';
import { DashboardOverviewController } from './dashboard-overview.controller';
import { DashboardSessionController } from './dashboard-session.controller';
import { QueueActivityRecorder } from './queue-activity.recorder';

/**
 * `/dashboard`: the operator page, its login and its overview. Needs KanbanModule (coordinator,
 * worker pool, events, transport) and ServerConfigModule (the tokens).
 */
@Module({
  controllers: [DashboardAssetsController, DashboardSessionController, DashboardOverviewController],
  providers: [QueueActivityRecorder],
})
export class DashboardModule {}
