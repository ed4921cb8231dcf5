import type { PublishReceipt, WorkItem } from '../interfaces/work-item.interface';
import { traceApi } from './trace-api';
import { spanContextFrom, traceHeadersOf } from './trace-headers';
import { KANBAN_TRACER_NAME } from './tracing.constants';

/**
 * Stores `item` under a PRODUCER span `kanban publish {domain}` whose trace context is written into
 * the item's headers first, so every broker (and the outbox) carries it in the item itself. The
 * parent is the `traceparent` the item already carries (an HTTP producer's), else the active span.
 * Without `@opentelemetry/api` the item is stored as given.
 */
export async function publishTraced(item: WorkItem, store: () => Promise<PublishReceipt>): Promise<PublishReceipt> {
  const api = traceApi();
  if (!api) return store();
  const remote = spanContextFrom(api, item.headers);
  const parent = remote ? api.trace.setSpanContext(api.context.active(), remote) : api.context.active();
  const span = api.trace.getTracer(KANBAN_TRACER_NAME).startSpan(
    `kanban publish ${item.domain}`,
    {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kanban',
        'messaging.operation.type': 'send',
        'messaging.destination.name': `kanban.${item.priority}.${item.domain}`,
        'messaging.message.id': item.id,
      },
    },
    parent,
  );
  // With no SDK registered the span is the parent's context, or invalid when there is none: nothing to carry then.
  if (api.isSpanContextValid(span.spanContext())) Object.assign(item.headers, traceHeadersOf(span.spanContext()));
  try {
    const receipt = await store();
    span.setAttribute('kanban.broker', receipt.broker);
    return receipt;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
