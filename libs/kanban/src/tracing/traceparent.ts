/** version 00, 32 hex trace id, 16 hex span id, 2 hex flags (W3C Trace Context, level 1). */
export const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** True for a well-formed W3C `traceparent` (version 00); anything else is to be ignored. */
export function isTraceparent(value: string): boolean {
  return TRACEPARENT_FORMAT.test(value);
}
