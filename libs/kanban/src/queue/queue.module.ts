import { Module } from '@nestjs/common';
import { KanbanQueue } from './kanban-queue';

/** Provides `KanbanQueue`; the transport, options, metrics and events come from the global KanbanModule. */
@Module({
  providers: [KanbanQueue],
  exports: [KanbanQueue],
})
export class QueueModule {}
