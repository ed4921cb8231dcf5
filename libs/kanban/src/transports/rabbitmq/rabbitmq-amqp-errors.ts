import { BrokerUnavailableError, KanbanError } from '../../errors';

/** AMQP reply codes kanban reacts to (AMQP 0-9-1 spec, section 1.9). */
export const AMQP_ACCESS_REFUSED = 403;
export const AMQP_NOT_FOUND = 404;
/** An exclusive queue another connection holds. */
export const AMQP_RESOURCE_LOCKED = 405;
export const AMQP_PRECONDITION_FAILED = 406;

/** The reply code amqplib attaches to errors caused by a channel or connection close from the broker. */
export function amqpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The broker's own words from a close frame, e.g. "inequivalent arg 'x-max-length' for queue …". */
export function amqpReplyText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /with message "(?:[A-Z_]+ - )?(.*)"$/s.exec(message);
  return quoted ? quoted[1] : message;
}

/** A refused login: amqplib reports the broker's ACCESS_REFUSED close during the handshake. */
export function isAuthenticationFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /ACCESS[-_]REFUSED/.test(message) && /handshake|login|authentication/i.test(message);
}

/** amqplib signals a publisher nack with this message; every other confirm failure is a closed channel. */
export function isPublisherNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}

/** Errors of amqplib (a channel or connection that closed, a refused call) as BrokerUnavailableError; kanban's own pass through. */
export function asKanbanError(error: unknown, doing: string): KanbanError {
  if (error instanceof KanbanError) return error;
  return new BrokerUnavailableError('rabbitmq', `${doing} failed: ${error instanceof Error ? error.message : String(error)}`);
}
