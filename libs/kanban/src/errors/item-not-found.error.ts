import { KanbanError } from './kanban.error';

export class ItemNotFoundError extends KanbanError {
  constructor(id: string, domain: string) {
    super(`No in-flight item ${id} in domain ${domain}`, { id, domain });
  }
}
