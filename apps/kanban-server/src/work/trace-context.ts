import { MAX_HEADER_VALUE_LENGTH, TRACEPARENT_HEADER, TRACESTATE_HEADER, isTraceparent } from '@tps/kanban';

/**
 * The item headers of a POST /work: the body's, plus the request's trace context when the body
 * names none (a body `traceparent` is the producer's explicit choice). A malformed `traceparent`
 * is ignored with its `tracestate`, and an oversized `tracestate` dropped, as W3C Trace Context
 * asks of a receiver: neither fails the publish.
 */
export function withTraceContext(headers: Record<string, string> | undefined, traceparent?: string, tracestate?: string): Record<string, string> | undefined {
  if (traceparent === undefined || !isTraceparent(traceparent) || headers?.[TRACEPARENT_HEADER] !== undefined) return headers;
  const withContext: Record<string, string> = { ...headers, [TRACEPARENT_HEADER]: traceparent };
  if (tracestate !== undefined && tracestate.length <= MAX_HEADER_VALUE_LENGTH) withContext[TRACESTATE_HEADER] = tracestate;
  return withContext;
}
