import { Module } from '@nestjs/common';
import { KanbanGroups } from './kanban-groups';

/** Provides `KanbanGroups`: run-time group limits and group listings. Needs KanbanCoreModule (options, transport). */
@Module({
  providers: [KanbanGroups],
  exports: [KanbanGroups],
})
export class GroupsModule {}
