import { Catch, type ExceptionFilter } from '@nestjs/common';

/**
 * The last filter a `@KanbanHandler` error meets: it hands the error on to the worker unlogged.
 * Without it Nest's fallback handler logs every failure with its stack, and the worker logs the
 * same failure again with the item, attempt and breaker count: two or more lines per item.
 * The worker writes the one line and settles the item by the error.
 */
@Catch()
export class KanbanHandlerErrorFilter implements ExceptionFilter {
  catch(exception: unknown): never {
    throw exception;
  }
}
