import { Module } from '@nestjs/common';
import { SettleRelay } from '../relay';
import { KanbanQueue } from './kanban-queue';

/**
 * Provides `KanbanQueue`: publish, pull, settle (through the SettleRelay, for leases another
 * instance holds), depth and dead letters. Needs KanbanCoreModule (options, transport, metrics,
 * events). Enough on its own for a producer-only app.
 */
@Module({
  providers: [KanbanQueue, SettleRelay],
  exports: [KanbanQueue, SettleRelay],
})
export class QueueModule {}
