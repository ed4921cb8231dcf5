import type * as TraceApi from '@opentelemetry/api';
import { MissingDependencyError } from '../errors';
import { loadOptionalDependency } from '../transports/optional-dependency';

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
    return loadOptionalDependency<typeof TraceApi>('@opentelemetry/api', 'Tracing');
  } catch (error) {
    if (error instanceof MissingDependencyError) return null;
    throw error;
  }
}
