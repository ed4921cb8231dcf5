import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BrokerUnavailableError, KanbanError } from '../errors';
import { kanbanErrorResponse } from './kanban-error-response';
import { answerOfKanbanError } from './kanban-error-status';

/**
 * Answers a `KanbanError` escaping an HTTP handler with the status a client can act on
 * (`kanbanErrorResponse`) instead of Nest's default 500; any other exception is left to the
 * app's filters. Register it with `{ provide: APP_FILTER, useClass: KanbanExceptionFilter }`,
 * `@UseFilters(KanbanExceptionFilter)`, or `app.useGlobalFilters(new KanbanExceptionFilter(app.get(HttpAdapterHost)))`.
 */
@Catch(KanbanError)
export class KanbanExceptionFilter implements ExceptionFilter<KanbanError> {
  private readonly logger = new Logger('KanbanExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: KanbanError, host: ArgumentsHost): void {
    // Kanban handlers run through the RPC pipeline, where the worker settles by the error itself.
    if (host.getType() !== 'http') throw error;
    const { status, body, headers } = kanbanErrorResponse(error);
    // A 500 or a lost broker is news for whoever runs the app; a 4xx or a refusal while draining is the client's.
    if (status === 500) this.logger.error(`500 ${error.name}: ${error.message}`);
    if (error instanceof BrokerUnavailableError) this.logger.warn(`${status} ${error.name}: ${error.message}`);
    // The client got a generic message (answerOfKanbanError); the error's own text stays here.
    else if (answerOfKanbanError(error)?.message !== undefined) this.logger.debug(`${status} ${error.name}: ${error.message}`);
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    if (httpAdapter.isHeadersSent(response)) {
      this.logger.error(`Error after the response started (${status}): ${error.name}: ${error.message}`);
      return;
    }
    for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.reply(response, body, status);
  }
}
