import { KanbanError } from './kanban.error';

/** Options or environment that cannot work; raised at start-up, naming the setting. */
export class KanbanConfigError extends KanbanError {
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`Invalid configuration ${setting}: ${detail}`, { setting });
  }
}
