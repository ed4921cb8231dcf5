import { KanbanError } from './kanban.error';

/** The queue is at `maxQueueDepth` (or the broker refused for lack of room); retry after `retryAfterMs`. */
export class QueueFullError extends KanbanError {
  constructor(
    readonly queue: string,
    readonly retryAfterMs: number,
    detail = '',
  ) {
    super(`Queue ${queue} is full${detail ? `: ${detail}` : ''}; retry after ${retryAfterMs} ms`, { queue, retryAfterMs });
  }
}
