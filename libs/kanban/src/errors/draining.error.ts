import { KanbanError } from './kanban.error';

/** Intake is refused while the queue drains for shutdown. */
export class DrainingError extends KanbanError {
  constructor() {
    super('Kanban is draining for shutdown and refuses new work');
  }
}
