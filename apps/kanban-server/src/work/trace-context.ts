import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from '@tps/kanban';

/**
 * The item headers of a POST /work: the body's, plus the request's trace context when the body
 * names none (a body `traceparent` is the producer's explicit choice). Validated with the rest
 * of the item's headers by the queue.
 */
export function withTraceContext(headers: Record<string, string> | undefined, traceparent?: string, tracestate?: string): Record<string, string> | undefined {
  if (traceparent === undefined || headers?.[TRACEPARENT_HEADER] !== undefined) return headers;
  return { ...headers, [TRACEPARENT_HEADER]: traceparent, ...(tracestate !== undefined ? { [TRACESTATE_HEADER]: tracestate } : {}) };
}
