import { KanbanError } from './kanban.error';

export class ScheduleNotFoundError extends KanbanError {
  constructor(jobId: string) {
    super(`No schedule with jobId ${jobId}`, { jobId });
  }
}
