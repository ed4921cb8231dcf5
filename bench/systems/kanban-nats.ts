import { KANBAN_DEFAULT_TUNING, KANBAN_TUNED_TUNING, openKanbanApp, type KanbanTuning } from './kanban-app';
import type { QueueSystem } from './queue-system';

export function kanbanNats(tuning: KanbanTuning = KANBAN_DEFAULT_TUNING): QueueSystem {
  const tuned = tuning !== KANBAN_DEFAULT_TUNING;
  return {
    id: tuned ? 'kanban-nats-tuned' : 'kanban-nats',
    label: tuned ? `kanban/NATS pull ${tuning.workerPullSize}` : 'kanban/NATS',
    unavailable: (brokers) => (brokers.nats ? undefined : `no nats-server: ${brokers.missing.nats}`),
    open: (context) => openKanbanApp(context, { nats: { servers: [context.brokers.nats!.url], streamPrefix: 'BENCH' } }, tuning),
  };
}

export const kanbanNatsTuned = (): QueueSystem => kanbanNats(KANBAN_TUNED_TUNING);
