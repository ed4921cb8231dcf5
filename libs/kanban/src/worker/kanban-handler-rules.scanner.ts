import type { ModulesContainer } from '@nestjs/core';
import { MetadataScanner, Reflector } from '@nestjs/core';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { KANBAN_HANDLER_METADATA } from '../kanban.constants';
import type { QueueRule } from '../queue/queue-policy.registry';
import { resolveHandlerPolicy } from './handler-policy';
import type { KanbanHandlerOptions } from './kanban-handler.decorator';

/**
 * Reads every `@KanbanHandler` of the app's classes before any provider is built, so the
 * transport is built for the handlers' limits. Classes only: a handler on a factory provider's
 * value is found by the explorer once built, and must fit within those limits.
 * @throws KanbanConfigError naming the handler and its bad field.
 */
export function scanQueueRules(modules: ModulesContainer, options: KanbanResolvedOptions): QueueRule[] {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const rules = new Map<string, QueueRule>();
  for (const module of modules.values()) {
    for (const wrapper of [...module.providers.values(), ...module.controllers.values()]) {
      const prototype = classPrototype(wrapper);
      if (!prototype) continue;
      for (const method of scanner.getAllMethodNames(prototype)) {
        const handlerOptions = reflector.get<KanbanHandlerOptions | undefined>(KANBAN_HANDLER_METADATA, prototype[method] as (...args: never[]) => unknown);
        if (!handlerOptions) continue;
        const name = `${prototype.constructor.name}.${method}`;
        const policy = resolveHandlerPolicy(name, handlerOptions, options);
        rules.set(name, queueRuleOf(name, handlerOptions, policy));
      }
    }
  }
  return [...rules.values()];
}

export function queueRuleOf(name: string, options: KanbanHandlerOptions, policy: { maxAttempts: number; processTimeoutMs: number; pullSize: number }): QueueRule {
  return { handler: name, domain: options.domain, priority: options.priority, maxAttempts: policy.maxAttempts, processTimeoutMs: policy.processTimeoutMs, pullSize: policy.pullSize };
}

/** What the scan reads of Nest's instance wrappers (their type is not in @nestjs/core's public index). */
interface ProviderWrapper {
  inject?: unknown;
  metatype?: unknown;
  instance?: unknown;
}

function classPrototype(wrapper: ProviderWrapper): Record<string, unknown> | undefined {
  if (wrapper.inject) return undefined;
  const type: unknown = wrapper.metatype ?? (wrapper.instance as object | undefined)?.constructor;
  if (typeof type !== 'function' || type === Object) return undefined;
  const prototype: unknown = type.prototype;
  return prototype ? (prototype as Record<string, unknown>) : undefined;
}
