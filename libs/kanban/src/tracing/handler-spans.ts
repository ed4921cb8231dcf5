import type { WorkItem } from '../interfaces/work-item.interface';
import { traceApi, type TraceApi } from './trace-api';
import { spanContextFrom } from './trace-headers';
import { KANBAN_TRACER_NAME, TRACE_ATTEMPTS_REMEMBERED } from './tracing.constants';

/** One handler run's CONSUMER span: the handler runs inside it, and the worker ends it with the run's outcome. */
export interface HandlerSpan {
  run<T>(handler: () => T): T;
  /** `failure` set: the attempt failed (thrown, timed out, nack or retry); the next attempt links to it. */
  end(failure?: string): void;
}

/**
 * Starts the handler spans of one worker pool: `kanban process {domain}`, a child of the span that
 * published the item, and for a later attempt of an item a link to this pool's previous attempt
 * of it. Remembers the last failed attempt of at most TRACE_ATTEMPTS_REMEMBERED items.
 */
export class HandlerSpans {
  private readonly failedAttempts = new Map<string, TraceApi.SpanContext>();

  /** Undefined without `@opentelemetry/api`: the handler runs untraced. */
  start(item: WorkItem): HandlerSpan | undefined {
    const api = traceApi();
    if (!api) return undefined;
    const producer = spanContextFrom(api, item.headers);
    const parent = producer ? api.trace.setSpanContext(api.ROOT_CONTEXT, producer) : api.ROOT_CONTEXT;
    const previous = item.attempts > 1 ? this.failedAttempts.get(item.id) : undefined;
    const span = api.trace.getTracer(KANBAN_TRACER_NAME).startSpan(
      `kanban process ${item.domain}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kanban',
          'messaging.operation.type': 'process',
          'messaging.destination.name': `kanban.${item.priority}.${item.domain}`,
          'messaging.message.id': item.id,
          'kanban.attempts': item.attempts,
        },
        links: previous ? [{ context: previous }] : [],
      },
      parent,
    );
    const active = api.trace.setSpan(parent, span);
    return {
      run: (handler) => api.context.with(active, handler),
      end: (failure) => {
        this.failedAttempts.delete(item.id);
        if (failure !== undefined) {
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: failure });
          this.remember(item.id, span.spanContext());
        }
        span.end();
      },
    };
  }

  private remember(id: string, spanContext: TraceApi.SpanContext): void {
    if (this.failedAttempts.size >= TRACE_ATTEMPTS_REMEMBERED) this.failedAttempts.delete(this.failedAttempts.keys().next().value as string);
    this.failedAttempts.set(id, spanContext);
  }
}
