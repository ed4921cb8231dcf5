/** Item header carrying the W3C trace context of the span that published the item. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Item header carrying vendor trace state beside `traceparent`. */
export const TRACESTATE_HEADER = 'tracestate';
/** Name of the tracer the library's spans come from. */
export const KANBAN_TRACER_NAME = '@tps/kanban';
/** Items whose last failed attempt is remembered for the next attempt's link; the oldest are forgotten first. */
export const TRACE_ATTEMPTS_REMEMBERED = 10_000;
/**
 * Item header naming the failed attempt a retry follows, `{attempt} {traceparent}`: written where a
 * transport stores the item again for its next attempt, so that attempt links to it in any process.
 */
export const TRACE_FAILED_ATTEMPT_HEADER = 'kanban-failed-attempt';
