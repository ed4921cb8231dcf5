import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from './tracing.constants';
import type { TraceApi } from './trace-api';
import { TRACEPARENT_FORMAT } from './traceparent';

/**
 * Item headers are written in W3C form whatever propagator the app registered: they are the
 * item's own format, read back by HTTP workers in any language.
 */
export function traceHeadersOf(spanContext: TraceApi.SpanContext): Record<string, string> {
  const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  const headers: Record<string, string> = { [TRACEPARENT_HEADER]: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}` };
  const state = spanContext.traceState?.serialize();
  if (state) headers[TRACESTATE_HEADER] = state;
  return headers;
}

/** The remote span context an item's headers name, or undefined without a valid `traceparent`. */
export function spanContextFrom(api: typeof TraceApi, headers: Record<string, string>): TraceApi.SpanContext | undefined {
  const match = TRACEPARENT_FORMAT.exec(headers[TRACEPARENT_HEADER] ?? '');
  if (!match) return undefined;
  const state = headers[TRACESTATE_HEADER];
  const spanContext: TraceApi.SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16),
    isRemote: true,
    ...(state ? { traceState: api.createTraceState(state) } : {}),
  };
  return api.isSpanContextValid(spanContext) ? spanContext : undefined;
}
