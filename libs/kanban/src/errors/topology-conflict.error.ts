import { KanbanError } from './kanban.error';

/** An existing stream, consumer or queue has settings that conflict with what kanban needs. */
export class TopologyConflictError extends KanbanError {
  constructor(broker: string, name: string, detail: string) {
    super(`${broker} ${name} exists with conflicting settings: ${detail}. Delete it or align its settings`, { broker, name });
  }
}
