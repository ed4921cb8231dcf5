import { KanbanError } from './kanban.error';

export class ScheduleConflictError extends KanbanError {
  constructor(jobId: string) {
    super(`A schedule named ${jobId} already exists; cancel it first or pick another name`, { jobId });
  }
}
