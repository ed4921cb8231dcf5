import { KanbanError } from './kanban.error';

/** The transport in use keeps no per-group state: group limits and listings need one that does. */
export class GroupsUnsupportedError extends KanbanError {
  constructor(readonly broker: string) {
    super(`the ${broker} transport does not support group limits or group listings`, { broker });
  }
}
