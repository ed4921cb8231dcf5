import { UseFilters } from '@nestjs/common';
import { KanbanHandlerErrorFilter } from './kanban-handler-error.filter';

type Method = (...args: unknown[]) => unknown;

const HANDLER_ERROR_FILTER = new KanbanHandlerErrorFilter();

/**
 * A stand-in for a handler method carrying all of its metadata (guards, pipes, interceptors,
 * filters, the app's own keys) with KanbanHandlerErrorFilter added behind the method's own
 * filters, so that theirs are tried first and an error none of them handles reaches the worker
 * without Nest logging it. Nest tries class-level and app-wide filters after the method's, so
 * they are not reached for kanban handlers: app-wide filters are written for HTTP responses, and
 * `@UseFilters` on the handler method is where a handler's errors are mapped.
 */
export function withHandlerErrorFilter(method: Method): Method {
  const handler = function (this: unknown, ...args: unknown[]): unknown {
    return method.apply(this, args);
  };
  Object.defineProperty(handler, 'name', { value: method.name });
  UseFilters(HANDLER_ERROR_FILTER)(handler, method.name, { value: handler });
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    const own: unknown = Reflect.getOwnMetadata(key, method);
    const added: unknown = Reflect.getOwnMetadata(key, handler);
    // Nest tries the filters listed last first: the method's own go after ours.
    Reflect.defineMetadata(key, Array.isArray(added) && Array.isArray(own) ? [...(added as unknown[]), ...(own as unknown[])] : own, handler);
  }
  return handler;
}
