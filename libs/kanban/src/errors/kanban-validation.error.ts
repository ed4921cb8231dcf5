import { KanbanError } from './kanban.error';

export interface FieldError {
  field: string;
  message: string;
}

/** Bad input, rejected before any broker call; `errors` lists every offending field. */
export class KanbanValidationError extends KanbanError {
  constructor(readonly errors: FieldError[]) {
    super(`Invalid work item: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, { errors });
  }
}
