import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { Registry } from 'prom-client';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT } from './kanban.constants';
import { KANBAN_ASYNC_OPTIONS_TYPE, KANBAN_MODULE_OPTIONS, KANBAN_OPTIONS_TYPE, KanbanConfigurableModule, type KanbanModuleExtras } from './kanban.module-definition';
import type { KanbanModuleOptions, KanbanResolvedOptions } from './interfaces/kanban-options.interface';
import { resolveKanbanOptions } from './kanban-options';
import { KanbanEvents } from './events/kanban-events';
import { KANBAN_METRICS_REGISTRY } from './metrics/metrics.constants';
import { KanbanMetrics } from './metrics/kanban-metrics';
import { TransportLifecycle } from './transport/transport-lifecycle';
import { createTransport } from './transports/create-transport';
import { QueuePolicyRegistry } from './queue/queue-policy.registry';
import { scanQueueRules } from './worker/kanban-handler-rules.scanner';

/**
 * What every kanban module needs and nothing more: the resolved options (`KANBAN_OPTIONS`), the
 * transport (`KANBAN_TRANSPORT`, connected at start-up and closed last), the per-queue retry rules
 * of the app's handlers (`QueuePolicyRegistry`), the metrics registry and
 * `KanbanMetrics`, and `KanbanEvents`. Global, so the feature modules an app imports beside it
 * (`QueueModule`, `WorkerModule`, `SchedulerModule`, `CoordinatorModule`, `KanbanHealthModule`)
 * find these wherever they are imported. It starts no worker, timer or schedule.
 */
@Global()
@Module({})
export class KanbanCoreModule extends KanbanConfigurableModule {
  static forRoot(options: typeof KANBAN_OPTIONS_TYPE): DynamicModule {
    return KanbanCoreModule.withCore(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof KANBAN_ASYNC_OPTIONS_TYPE): DynamicModule {
    return KanbanCoreModule.withCore(super.forRootAsync(options), options);
  }

  private static withCore(definition: DynamicModule, extras: KanbanModuleExtras): DynamicModule {
    const providers: Provider[] = [
      { provide: KANBAN_OPTIONS, useFactory: (options: KanbanModuleOptions) => resolveKanbanOptions(options), inject: [KANBAN_MODULE_OPTIONS] },
      // Read from the handlers' metadata before the transport is built: it is built for their limits.
      {
        provide: QueuePolicyRegistry,
        useFactory: (options: KanbanResolvedOptions, modules: ModulesContainer) => new QueuePolicyRegistry(options, scanQueueRules(modules, options)),
        inject: [KANBAN_OPTIONS, ModulesContainer],
      },
      extras.transport
        ? { provide: KANBAN_TRANSPORT, useClass: extras.transport }
        : { provide: KANBAN_TRANSPORT, useFactory: (policies: QueuePolicyRegistry) => createTransport(policies.transportOptions()), inject: [QueuePolicyRegistry] },
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
      exports: [...(definition.exports ?? []), KANBAN_OPTIONS, QueuePolicyRegistry, KANBAN_TRANSPORT, KANBAN_METRICS_REGISTRY, KanbanMetrics, KanbanEvents],
    };
  }
}
