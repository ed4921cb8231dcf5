import { KANBAN_DEFAULT_TUNING, KANBAN_TUNED_TUNING, openKanbanApp, type KanbanTuning } from './kanban-app';
import type { QueueSystem } from './queue-system';

/** The SQLite store in the bench's temp dir, one file per run. */
export function kanbanEmbedded(tuning: KanbanTuning = KANBAN_DEFAULT_TUNING): QueueSystem {
  const tuned = tuning !== KANBAN_DEFAULT_TUNING;
  return {
    id: tuned ? 'kanban-embedded-tuned' : 'kanban-embedded',
    label: tuned ? `kanban/embedded pull ${tuning.workerPullSize}` : 'kanban/embedded',
    unavailable: () => undefined,
    open: (context) => openKanbanApp(context, {}, tuning),
  };
}

export const kanbanEmbeddedTuned = (): QueueSystem => kanbanEmbedded(KANBAN_TUNED_TUNING);
