import { KanbanError } from './kanban.error';

export class DeadLetterNotFoundError extends KanbanError {
  constructor(id: string) {
    super(`No dead letter with id ${id}`, { id });
  }
}
