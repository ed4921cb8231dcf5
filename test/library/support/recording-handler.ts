import type { KanbanContext } from '@tps/kanban';

/** What a test handler saw: one entry per handler run. */
export interface Handled {
  id: string;
  priority: string;
  payload: unknown;
  attempts: number;
  workerId: string;
}

export class HandledLog {
  readonly runs: Handled[] = [];

  record(payload: unknown, context: KanbanContext): void {
    const item = context.getItem();
    this.runs.push({ id: item.id, priority: item.priority, payload, attempts: item.attempts, workerId: context.getWorkerId() });
  }

  ids(): string[] {
    return this.runs.map((r) => r.id);
  }

  duplicates(): number {
    return this.runs.length - new Set(this.ids()).size;
  }
}
