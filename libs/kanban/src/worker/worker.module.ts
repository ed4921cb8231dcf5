import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { QueueModule } from '../queue/queue.module';
import { KanbanHandlerExplorer } from './kanban-handler.explorer';
import { KanbanHandlerMetadataAccessor } from './kanban-handler-metadata.accessor';
import { KanbanWorkerPool } from './kanban-worker-pool';
import { KanbanServer } from './kanban.server';

/**
 * Provides `KanbanWorkerPool` and `KanbanServer`: finds the app's `@KanbanHandler` methods and runs
 * workers for them from bootstrap to shutdown. Needs KanbanCoreModule; brings QueueModule.
 */
@Module({
  imports: [DiscoveryModule, QueueModule],
  providers: [KanbanServer, KanbanHandlerMetadataAccessor, KanbanHandlerExplorer, KanbanWorkerPool],
  exports: [KanbanServer, KanbanWorkerPool],
})
export class WorkerModule {}
