import { SetMetadata } from '@nestjs/common';
import { KANBAN_HANDLER_METADATA } from '../kanban.constants';
import type { Priority } from '../interfaces/work-item.interface';

export interface KanbanHandlerOptions {
  /** The queue's domain. */
  domain: string;
  /** One priority; omitted = every priority of the domain, served strictly high → normal → low. */
  priority?: Priority;
}

/**
 * Marks a provider method as the consumer of a queue. The method receives the payload
 * (`@Payload()`) and a `KanbanContext` (`@Ctx()`); pipes, guards, interceptors and exception
 * filters apply as on any Nest microservice handler. Resolving acks the item; throwing retries it.
 */
export const KanbanHandler = (options: KanbanHandlerOptions): MethodDecorator => SetMetadata(KANBAN_HANDLER_METADATA, options);
