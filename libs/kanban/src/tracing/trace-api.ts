import type * as TraceApi from '@opentelemetry/api';

export type { TraceApi };

let loaded: typeof TraceApi | null | undefined;

/**
 * `@opentelemetry/api` when the app installed it, else undefined: tracing is optional and an app
 * without it runs exactly as before. Required once, on first use, like the brokers' clients.
 */
export function traceApi(): typeof TraceApi | undefined {
  if (loaded === undefined) loaded = requireTraceApi();
  return loaded ?? undefined;
}

function requireTraceApi(): typeof TraceApi | null {
  try {
    return require('@opentelemetry/api') as typeof TraceApi;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (error as Error).message.includes("'@opentelemetry/api'");
    if (missing) return null;
    throw error;
  }
}
