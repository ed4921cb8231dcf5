import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { KANBAN_OPTIONS } from '../kanban.constants';
import { QueuePolicyRegistry } from '../queue/queue-policy.registry';
import { resolveHandlerPolicy, type HandlerPolicy } from './handler-policy';
import { queueRuleOf } from './kanban-handler-rules.scanner';
import { KanbanHandlerMetadataAccessor } from './kanban-handler-metadata.accessor';
import type { KanbanHandlerOptions } from './kanban-handler.decorator';
import { KanbanParamsFactory } from './kanban-params.factory';
import { KanbanServer, handlerPattern } from './kanban.server';
import { withHandlerErrorFilter } from './with-handler-error-filter';

/** The metadata key `@Payload()` and `@Ctx()` record their params under (Nest keeps its constant out of the public index). */
const ROUTE_ARGS_METADATA = '__routeArguments__';

export interface DiscoveredHandler extends Pick<KanbanHandlerOptions, 'domain' | 'priority'> {
  pattern: string;
  /** `Class.method`, for logs. */
  name: string;
  policy: HandlerPolicy;
}

/**
 * Finds `@KanbanHandler` methods on providers and controllers at start-up and registers them with
 * the KanbanServer, with the policy their options give; their queue rules were read before the
 * transport was built, except for handlers on factory providers, added here within its limits.
 */
@Injectable()
export class KanbanHandlerExplorer implements OnModuleInit {
  private readonly logger = new Logger('KanbanHandlerExplorer');
  private readonly found: DiscoveredHandler[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: KanbanHandlerMetadataAccessor,
    private readonly contextCreator: ExternalContextCreator,
    private readonly server: KanbanServer,
    private readonly policies: QueuePolicyRegistry,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  get handlers(): readonly DiscoveredHandler[] {
    return this.found;
  }

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const options = this.accessor.getHandlerOptions(instance[method] as (...args: never[]) => unknown);
        if (options) this.register(instance, method, options);
      }
    }
  }

  private register(instance: Record<string, unknown>, method: string, options: KanbanHandlerOptions): void {
    const name = `${instance.constructor.name}.${method}`;
    const policy = resolveHandlerPolicy(name, options, this.options);
    this.policies.add(queueRuleOf(name, options, policy));
    const callback = this.contextCreator.create(
      instance,
      withHandlerErrorFilter(instance[method] as (...args: unknown[]) => unknown),
      method,
      ROUTE_ARGS_METADATA,
      new KanbanParamsFactory(),
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: true },
      'rpc',
    );
    const pattern = handlerPattern(options.domain, options.priority);
    this.server.register(pattern, callback);
    this.found.push({ domain: options.domain, priority: options.priority, pattern, name, policy });
    this.logger.log(`Handler ${name} consumes ${pattern}`);
  }
}
