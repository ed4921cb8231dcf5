import { ConsoleLogger } from '@nestjs/common';
import { KanbanConfigError } from '../errors';

/** `text`: Nest's coloured console lines; `json`: one JSON object per line, for log shippers. */
export const KANBAN_LOG_FORMATS = ['text', 'json'] as const;
export type KanbanLogFormat = (typeof KANBAN_LOG_FORMATS)[number];
/** The variable `kanbanLoggerFromEnv` reads. */
export const KANBAN_LOG_FORMAT_VARIABLE = 'KANBAN_LOG_FORMAT';
export const DEFAULT_KANBAN_LOG_FORMAT: KanbanLogFormat = 'text';

/**
 * The console logger for `KANBAN_LOG_FORMAT` (unset or empty: text). Pass it to
 * `NestFactory.create(module, { logger })` or `Logger.overrideLogger`.
 * @throws KanbanConfigError when the variable holds another value.
 */
export function kanbanLoggerFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleLogger {
  const format = env[KANBAN_LOG_FORMAT_VARIABLE] || DEFAULT_KANBAN_LOG_FORMAT;
  if (!(KANBAN_LOG_FORMATS as readonly string[]).includes(format)) {
    throw new KanbanConfigError(KANBAN_LOG_FORMAT_VARIABLE, `must be one of ${KANBAN_LOG_FORMATS.join(', ')}`);
  }
  return new ConsoleLogger(format === 'json' ? { json: true } : {});
}
