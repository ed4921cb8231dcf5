import { KanbanError } from './kanban.error';

/** A settle came from a delivery whose lease had lapsed; the newer delivery was left untouched. */
export class LeaseExpiredError extends KanbanError {
  constructor(id: string, domain: string) {
    super(`Lease on item ${id} (${domain}) has expired: it was redelivered or dead-lettered, so this settle was refused`, { id, domain });
  }
}
