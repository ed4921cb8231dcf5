import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { Registry } from 'prom-client';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT } from './kanban.constants';
import {
  KANBAN_ASYNC_OPTIONS_TYPE,
  KANBAN_MODULE_OPTIONS,
  KANBAN_OPTIONS_TYPE,
  KanbanConfigurableModule,
  type KanbanModuleExtras,
} from './kanban.module-definition';
import type { KanbanModuleOptions, KanbanResolvedOptions } from './interfaces/kanban-options.interface';
import { resolveKanbanOptions } from './kanban-options';
import { KanbanEvents } from './events/kanban-events';
import { KANBAN_METRICS_REGISTRY } from './metrics/metrics.constants';
import { KanbanMetrics } from './metrics/kanban-metrics';
import { TransportLifecycle } from './transport/transport-lifecycle';
import { createTransport } from './transports/create-transport';
import { QueueModule } from './queue/queue.module';
import { WorkerModule } from './worker/worker.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { CoordinatorModule } from './coordinator/coordinator.module';
import { KanbanHealthModule } from './health/kanban-health.module';

const FEATURE_MODULES = [QueueModule, WorkerModule, SchedulerModule, CoordinatorModule, KanbanHealthModule];

/**
 * The one entry point: `KanbanModule.forRoot(options)` or `forRootAsync({ useFactory, inject })`.
 * Global, so `KanbanQueue`, `KanbanWorkerPool`, `KanbanScheduler` and `KanbanCoordinator` can be
 * injected anywhere.
 */
@Global()
@Module({
  imports: FEATURE_MODULES,
  exports: FEATURE_MODULES,
})
export class KanbanModule extends KanbanConfigurableModule {
  static forRoot(options: typeof KANBAN_OPTIONS_TYPE): DynamicModule {
    return KanbanModule.withCore(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof KANBAN_ASYNC_OPTIONS_TYPE): DynamicModule {
    return KanbanModule.withCore(super.forRootAsync(options), options);
  }

  private static withCore(definition: DynamicModule, extras: KanbanModuleExtras): DynamicModule {
    const providers: Provider[] = [
      { provide: KANBAN_OPTIONS, useFactory: (options: KanbanModuleOptions) => resolveKanbanOptions(options), inject: [KANBAN_MODULE_OPTIONS] },
      extras.transport
        ? { provide: KANBAN_TRANSPORT, useClass: extras.transport }
        : { provide: KANBAN_TRANSPORT, useFactory: (options: KanbanResolvedOptions) => createTransport(options), inject: [KANBAN_OPTIONS] },
      // A factory, not a value: a module definition built into several apps (a Jest beforeEach) gives each its own registry.
      { provide: KANBAN_METRICS_REGISTRY, useFactory: () => extras.registry ?? new Registry() },
      KanbanMetrics,
      KanbanEvents,
      TransportLifecycle,
    ];
    return {
      ...definition,
      global: true,
      providers: [...(definition.providers ?? []), ...providers],
      exports: [...(definition.exports ?? []), KANBAN_OPTIONS, KANBAN_TRANSPORT, KANBAN_METRICS_REGISTRY, KanbanMetrics, KanbanEvents, ...FEATURE_MODULES],
    };
  }
}
