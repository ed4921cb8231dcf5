import { Module } from '@nestjs/common';
import { SettleRelay } from '../relay';
import { KanbanQueue } from './kanban-queue';

/** Provides `KanbanQueue` (with the SettleRelay its settles go through); the transport, options, metrics and events come from the global KanbanModule. */
@Module({
  providers: [KanbanQueue, SettleRelay],
  exports: [KanbanQueue],
})
export class QueueModule {}
