import { Global, Module, type DynamicModule } from '@nestjs/common';
import { KanbanCoreModule } from './kanban-core.module';
import { KANBAN_ASYNC_OPTIONS_TYPE, KANBAN_OPTIONS_TYPE } from './kanban.module-definition';
import { QueueModule } from './queue/queue.module';
import { WorkerModule } from './worker/worker.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { CoordinatorModule } from './coordinator/coordinator.module';
import { KanbanHealthModule } from './health/kanban-health.module';
import { GroupsModule } from './groups/groups.module';

const FEATURE_MODULES = [QueueModule, GroupsModule, WorkerModule, SchedulerModule, CoordinatorModule, KanbanHealthModule];

/**
 * Everything on: `KanbanCoreModule` plus the queue, workers, scheduler, coordinator and health, as
 * `forRoot(options)` or `forRootAsync({ useFactory, inject })`. Global, so `KanbanQueue`, `KanbanGroups`,
 * `KanbanWorkerPool`, `KanbanScheduler` and `KanbanCoordinator` can be injected anywhere. An app
 * that needs less imports `KanbanCoreModule.forRoot(options)` and the feature modules it wants.
 */
@Global()
@Module({})
export class KanbanModule {
  static forRoot(options: typeof KANBAN_OPTIONS_TYPE): DynamicModule {
    return KanbanModule.withFeatures(KanbanCoreModule.forRoot(options));
  }

  static forRootAsync(options: typeof KANBAN_ASYNC_OPTIONS_TYPE): DynamicModule {
    return KanbanModule.withFeatures(KanbanCoreModule.forRootAsync(options));
  }

  private static withFeatures(core: DynamicModule): DynamicModule {
    return { module: KanbanModule, global: true, imports: [core, ...FEATURE_MODULES], exports: FEATURE_MODULES };
  }
}
