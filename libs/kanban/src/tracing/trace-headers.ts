import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from './tracing.constants';
import type { TraceApi } from './trace-api';

/** version 00, 32 hex trace id, 16 hex span id, 2 hex flags (W3C Trace Context, level 1). */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** True for a well-formed W3C `traceparent` (version 00); anything else is to be ignored. */
export function isTraceparent(value: string): boolean {
  return TRACEPARENT.test(value);
}

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
  const match = TRACEPARENT.exec(headers[TRACEPARENT_HEADER] ?? '');
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
