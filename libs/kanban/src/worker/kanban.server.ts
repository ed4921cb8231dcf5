import { Injectable } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { KanbanError } from '../errors';
import type { KanbanContext } from './kanban-context';

export const KANBAN_TRANSPORT_ID = Symbol('KANBAN');

/** Pattern under which a handler is registered: `kanban.{priority|*}.{domain}`. */
export function handlerPattern(domain: string, priority?: string): string {
  return `kanban.${priority ?? '*'}.${domain}`;
}

/**
 * The custom @nestjs/microservices transport strategy kanban handlers are dispatched through.
 * Handlers are registered by the explorer; workers call `dispatch`. Pulling is the workers' job,
 * so `listen` has nothing to open.
 */
@Injectable()
export class KanbanServer extends Server implements CustomTransportStrategy {
  override readonly transportId = KANBAN_TRANSPORT_ID;

  listen(callback: () => void): void {
    callback();
  }

  close(): void {
    this.messageHandlers.clear();
  }

  on(): never {
    throw new KanbanError('KanbanServer emits no events: watch KanbanEvents or the transport status$ instead');
  }

  unwrap<T>(): T {
    throw new KanbanError('KanbanServer wraps no broker client: kanban transports own their connections');
  }

  register(pattern: string, handler: MessageHandler): void {
    if (this.messageHandlers.has(pattern)) {
      throw new KanbanError(`Two @KanbanHandler methods consume ${pattern}; a queue has one handler`, { pattern });
    }
    this.addHandler(pattern, handler);
  }

  /** Runs the handler for `pattern` through Nest's RPC pipeline and resolves with its result (a batch handler gets arrays). */
  async dispatch(pattern: string, payload: unknown, context: KanbanContext | KanbanContext[]): Promise<unknown> {
    // Exact lookup first: getHandlerByPattern() tries JSON.parse on the pattern (a thrown SyntaxError per item for `kanban.x.y`).
    const handler = this.messageHandlers.get(pattern) ?? this.getHandlerByPattern(pattern);
    if (!handler) throw new KanbanError(`No @KanbanHandler for ${pattern}`, { pattern });
    return lastValueFrom(this.transformToObservable(await handler(payload, context)), { defaultValue: undefined });
  }
}
