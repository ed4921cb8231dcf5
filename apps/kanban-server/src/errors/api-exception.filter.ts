import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ThrottlerException } from '@nestjs/throttler';
import { KanbanError, KanbanExceptionFilter, errorBody, internalErrorBody, type ErrorBody } from '@tps/kanban';

/** The code of the 429 a client gets for going over KANBAN_RATE_LIMIT_PER_SECOND. */
export const RATE_LIMITED_CODE = 'rate_limited';

/**
 * Turns every error into a JSON response with a status and a stable `code` a client can act on: library errors as
 * the library's KanbanExceptionFilter answers them (400, 404, 409, 429 with Retry-After, 503),
 * Nest's HTTP exceptions as they are, and anything else into a 500 that says nothing about the
 * internals. Stack traces never leave.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');
  private readonly kanbanErrors: KanbanExceptionFilter;

  constructor(private readonly adapterHost: HttpAdapterHost) {
    this.kanbanErrors = new KanbanExceptionFilter(adapterHost);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof KanbanError) return this.kanbanErrors.catch(exception, host);
    // Kanban handlers run through the RPC pipeline, where the worker settles by the error itself.
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<unknown>();
    const { httpAdapter } = this.adapterHost;
    const { status, body } = this.describe(exception);
    if (httpAdapter.isHeadersSent(response)) {
      this.logger.error(`Error after the response started (${status}): ${this.summary(exception)}`);
      return;
    }
    httpAdapter.reply(response, body, status);
  }

  private describe(exception: unknown): { status: number; body: ErrorBody | object } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      // Terminus answers 503 with its own health document, which clients read as is.
      if (typeof response === 'object' && !('statusCode' in response)) return { status, body: response };
      const code = exception instanceof ThrottlerException ? RATE_LIMITED_CODE : undefined;
      const body = typeof response === 'string' ? errorBody(status, response, code) : { ...errorBody(status, exception.message, code), ...(response as Partial<ErrorBody>) };
      return { status, body };
    }
    return this.internal(exception);
  }

  private internal(exception: unknown): { status: number; body: ErrorBody } {
    this.logger.error(`500 ${this.summary(exception)}`);
    return { status: 500, body: internalErrorBody() };
  }

  private summary(exception: unknown): string {
    return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
  }
}
