import type { WorkItem } from '../interfaces/work-item.interface';
import { traceApi, type TraceApi } from './trace-api';
import { failedAttemptFrom, failedAttemptHeadersOf, spanContextFrom } from './trace-headers';
import { KANBAN_TRACER_NAME, TRACE_ATTEMPTS_REMEMBERED } from './tracing.constants';

/** One handler run's CONSUMER span: the handler runs inside it, and the worker ends it with the run's outcome. */
export interface HandlerSpan {
  run<T>(handler: () => T): T;
  /** `failure` set: the run failed (thrown, timed out, nack or retry); an item's next attempt links to it. */
  end(failure?: string): void;
}

/**
 * Starts the handler spans of one worker pool, `kanban process {domain}`: for one item a child of
 * the span that published it, linking to its previous failed attempt (remembered by this pool, or
 * named by the item's headers when a transport stored the retry with `retryHeaders`); for a batch
 * a root span linking to every item's publish span (a batch has no one parent). Remembers the last
 * failed attempt of at most TRACE_ATTEMPTS_REMEMBERED items.
 */
export class HandlerSpans {
  private readonly failedAttempts = new Map<string, TraceApi.SpanContext>();

  /** Undefined without `@opentelemetry/api`: the handler runs untraced. */
  start(item: WorkItem): HandlerSpan | undefined {
    const api = traceApi();
    if (!api) return undefined;
    const producer = spanContextFrom(api, item.headers);
    const parent = producer ? api.trace.setSpanContext(api.ROOT_CONTEXT, producer) : api.ROOT_CONTEXT;
    const previous = item.attempts > 1 ? (this.failedAttempts.get(item.id) ?? failedAttemptFrom(api, item)) : undefined;
    const attributes = { ...destinationOf(item), 'messaging.message.id': item.id, 'kanban.attempts': item.attempts };
    return this.open(api, item.domain, parent, attributes, previous ? [{ context: previous }] : [], [item.id]);
  }

  /** Undefined without `@opentelemetry/api`: the handler runs untraced. */
  startBatch(items: WorkItem[]): HandlerSpan | undefined {
    const api = traceApi();
    if (!api) return undefined;
    const links = items.flatMap((item) => {
      const producer = spanContextFrom(api, item.headers);
      return producer ? [{ context: producer }] : [];
    });
    const attributes = { ...destinationOf(items[0]), 'messaging.batch.message_count': items.length };
    return this.open(
      api,
      items[0].domain,
      api.ROOT_CONTEXT,
      attributes,
      links,
      items.map((item) => item.id),
    );
  }

  /**
   * Headers that name the item's failed attempt just ended, for the transport to store with the
   * retry; undefined when the attempt did not fail in a recorded span.
   */
  retryHeaders(item: WorkItem): Record<string, string> | undefined {
    const failed = this.failedAttempts.get(item.id);
    return failed ? failedAttemptHeadersOf(item.attempts, failed) : undefined;
  }

  private open(api: typeof TraceApi, domain: string, parent: TraceApi.Context, attributes: TraceApi.Attributes, links: TraceApi.Link[], ids: string[]): HandlerSpan {
    const span = api.trace.getTracer(KANBAN_TRACER_NAME).startSpan(`kanban process ${domain}`, { kind: api.SpanKind.CONSUMER, attributes, links }, parent);
    const active = api.trace.setSpan(parent, span);
    return {
      run: (handler) => api.context.with(active, handler),
      end: (failure) => {
        for (const id of ids) this.failedAttempts.delete(id);
        if (failure !== undefined) {
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: failure });
          for (const id of ids) this.remember(id, span.spanContext());
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

function destinationOf(item: WorkItem): TraceApi.Attributes {
  return { 'messaging.system': 'kanban', 'messaging.operation.type': 'process', 'messaging.destination.name': `kanban.${item.priority}.${item.domain}` };
}
