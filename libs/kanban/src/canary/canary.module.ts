import { Module } from '@nestjs/common';
import { CanaryTracker } from './canary-tracker';

/**
 * Provides `CanaryTracker`, shared by the scheduler (which publishes canaries) and the coordinator
 * (which reports them). Needs `KanbanEvents` from KanbanCoreModule.
 */
@Module({
  providers: [CanaryTracker],
  exports: [CanaryTracker],
})
export class CanaryModule {}
