import { TRACE_FAILED_ATTEMPT_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER } from './tracing.constants';
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
  return remoteSpanContext(api, headers[TRACEPARENT_HEADER] ?? '', headers[TRACESTATE_HEADER]);
}

/** The header a retry's item carries to name the failed attempt `attempt` ran in `spanContext`. */
export function failedAttemptHeadersOf(attempt: number, spanContext: TraceApi.SpanContext): Record<string, string> {
  return { [TRACE_FAILED_ATTEMPT_HEADER]: `${attempt} ${traceHeadersOf(spanContext)[TRACEPARENT_HEADER]}` };
}

/**
 * The span of the attempt before the item's current one, when its headers name it; a header left
 * from an earlier attempt (the broker redelivered the item unchanged since) names none.
 */
export function failedAttemptFrom(api: typeof TraceApi, item: { attempts: number; headers: Record<string, string> }): TraceApi.SpanContext | undefined {
  const [attempt, traceparent] = (item.headers[TRACE_FAILED_ATTEMPT_HEADER] ?? '').split(' ');
  return Number(attempt) === item.attempts - 1 ? remoteSpanContext(api, traceparent ?? '') : undefined;
}

function remoteSpanContext(api: typeof TraceApi, traceparent: string, state?: string): TraceApi.SpanContext | undefined {
  const match = TRACEPARENT_FORMAT.exec(traceparent);
  if (!match) return undefined;
  const spanContext: TraceApi.SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16),
    isRemote: true,
    ...(state ? { traceState: api.createTraceState(state) } : {}),
  };
  return api.isSpanContextValid(spanContext) ? spanContext : undefined;
}
