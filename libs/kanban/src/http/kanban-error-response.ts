import { KanbanValidationError, QueueFullError, type KanbanError } from '../errors';
import { errorBody, internalErrorBody, validationErrorBody, type ErrorBody } from './error-body';
import { answerOfKanbanError } from './kanban-error-status';

/** What an HTTP client is told about a KanbanError. */
export interface KanbanErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/**
 * The one mapping of library errors to HTTP answers, used by `KanbanExceptionFilter` and the
 * server: 400 with every invalid field, 404, 409, 429 with Retry-After, 503, else a bare 500;
 * each with a stable `code`, and a generic message where the error's own could name internals.
 */
export function kanbanErrorResponse(error: KanbanError): KanbanErrorResponse {
  if (error instanceof KanbanValidationError) return { status: 400, body: validationErrorBody(error.errors), headers: {} };
  const answer = answerOfKanbanError(error);
  if (answer === undefined) return { status: 500, body: internalErrorBody(), headers: {} };
  const { status, code, message } = answer;
  const headers: Record<string, string> = error instanceof QueueFullError ? { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) } : {};
  return { status, body: errorBody(status, message ?? error.message, code), headers };
}
