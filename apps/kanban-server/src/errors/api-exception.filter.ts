import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BrokerUnavailableError, KanbanError, KanbanValidationError, QueueFullError } from '@tps/kanban';
import { errorBody, validationErrorBody, type ErrorBody } from './error-body';
import { statusOfKanbanError } from './kanban-error-status';

const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/**
 * Turns every error into a JSON response with a status a client can act on: library errors by
 * type (400, 404, 409, 429 with Retry-After, 503), Nest's HTTP exceptions as they are, and
 * anything else into a 500 that says nothing about the internals. Stack traces never leave.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // Kanban handlers run through the RPC pipeline, where the worker settles by the error itself.
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<unknown>();
    const { httpAdapter } = this.adapterHost;
    const { status, body, headers } = this.describe(exception);
    if (httpAdapter.isHeadersSent(response)) {
      this.logger.error(`Error after the response started (${status}): ${this.summary(exception)}`);
      return;
    }
    for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.reply(response, body, status);
  }

  private describe(exception: unknown): { status: number; body: ErrorBody | object; headers: Record<string, string> } {
    if (exception instanceof KanbanValidationError) return { status: 400, body: validationErrorBody(exception.errors), headers: {} };
    if (exception instanceof KanbanError) {
      const status = statusOfKanbanError(exception);
      if (status === undefined) return this.internal(exception);
      const headers: Record<string, string> = exception instanceof QueueFullError ? { 'Retry-After': String(Math.max(1, Math.ceil(exception.retryAfterMs / 1000))) } : {};
      // A lost broker is news for whoever runs the server; a refusal while draining is expected.
      if (exception instanceof BrokerUnavailableError) this.logger.warn(`${status} ${exception.name}: ${exception.message}`);
      return { status, body: errorBody(status, exception.message), headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      // Terminus answers 503 with its own health document, which clients read as is.
      if (typeof response === 'object' && !('statusCode' in response)) return { status, body: response, headers: {} };
      const body = typeof response === 'string' ? errorBody(status, response) : { ...errorBody(status, exception.message), ...(response as Partial<ErrorBody>) };
      return { status, body, headers: {} };
    }
    return this.internal(exception);
  }

  private internal(exception: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
    this.logger.error(`500 ${this.summary(exception)}`);
    return { status: 500, body: errorBody(500, INTERNAL_ERROR_MESSAGE), headers: {} };
  }

  private summary(exception: unknown): string {
    return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
  }
}
