import {
  BrokerUnavailableError,
  DeadLetterNotFoundError,
  DomainLimitError,
  DrainingError,
  GroupsUnsupportedError,
  ItemNotFoundError,
  KanbanValidationError,
  LeaseExpiredError,
  QueueFullError,
  ScheduleConflictError,
  ScheduleNotFoundError,
  type KanbanError,
} from '../errors';

type KanbanErrorClass = abstract new (...args: never[]) => KanbanError;

/** How the API answers one library error. */
export interface KanbanErrorAnswer {
  status: number;
  /** Stable, for clients to branch on. */
  code: string;
  /**
   * Said instead of the error's own message, which can name internals (broker hosts, file paths,
   * store errors). Absent where the message only repeats what the caller sent (an id, a name).
   */
  message?: string;
}

/** The answer to each library error a client can cause or act on; any other KanbanError is a 500. */
export const KANBAN_ERROR_STATUS: ReadonlyArray<readonly [KanbanErrorClass, KanbanErrorAnswer]> = [
  [KanbanValidationError, { status: 400, code: 'validation_failed' }],
  [DeadLetterNotFoundError, { status: 404, code: 'dead_letter_not_found' }],
  [ScheduleNotFoundError, { status: 404, code: 'schedule_not_found' }],
  [ItemNotFoundError, { status: 404, code: 'item_not_found' }],
  // 400, not 429: the count of domains does not fall by waiting, so a retry cannot succeed.
  [DomainLimitError, { status: 400, code: 'domain_limit_reached', message: 'This domain is new and the server serves as many domains as it may; use an existing domain or raise KANBAN_MAX_DOMAINS' }],
  [LeaseExpiredError, { status: 409, code: 'lease_expired' }],
  [ScheduleConflictError, { status: 409, code: 'schedule_conflict' }],
  [QueueFullError, { status: 429, code: 'queue_full', message: 'The queue is full; retry after Retry-After seconds' }],
  [DrainingError, { status: 503, code: 'draining', message: 'This server is draining for shutdown and takes no new work; send it to another instance' }],
  [BrokerUnavailableError, { status: 503, code: 'broker_unavailable', message: 'No broker can store the request right now; retry later' }],
  // 501: the server is fine, but the broker it runs on keeps no group state; retrying cannot help.
  [GroupsUnsupportedError, { status: 501, code: 'groups_unsupported' }],
];

/** @returns how to answer `error`, or undefined when it has nothing a client could act on (a 500). */
export function answerOfKanbanError(error: KanbanError): KanbanErrorAnswer | undefined {
  return KANBAN_ERROR_STATUS.find(([type]) => error instanceof type)?.[1];
}

/** @returns the HTTP status of `error`, or undefined when it has none a client could act on (a 500). */
export function statusOfKanbanError(error: KanbanError): number | undefined {
  return answerOfKanbanError(error)?.status;
}
