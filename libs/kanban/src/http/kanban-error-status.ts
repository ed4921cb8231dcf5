import {
  BrokerUnavailableError,
  DeadLetterNotFoundError,
  DrainingError,
  ItemNotFoundError,
  KanbanValidationError,
  LeaseExpiredError,
  QueueFullError,
  ScheduleConflictError,
  ScheduleNotFoundError,
  type KanbanError,
} from '../errors';

type KanbanErrorClass = abstract new (...args: never[]) => KanbanError;

/** HTTP status of each library error a client can cause or act on; any other KanbanError is a 500. */
export const KANBAN_ERROR_STATUS: ReadonlyArray<readonly [KanbanErrorClass, number]> = [
  [KanbanValidationError, 400],
  [DeadLetterNotFoundError, 404],
  [ScheduleNotFoundError, 404],
  [ItemNotFoundError, 404],
  [LeaseExpiredError, 409],
  [ScheduleConflictError, 409],
  [QueueFullError, 429],
  [DrainingError, 503],
  [BrokerUnavailableError, 503],
];

/** @returns the HTTP status of `error`, or undefined when it has none a client could act on (a 500). */
export function statusOfKanbanError(error: KanbanError): number | undefined {
  return KANBAN_ERROR_STATUS.find(([type]) => error instanceof type)?.[1];
}
