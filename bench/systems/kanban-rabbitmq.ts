import { KANBAN_DEFAULT_TUNING, KANBAN_TUNED_TUNING, openKanbanApp, type KanbanTuning } from './kanban-app';
import type { QueueSystem } from './queue-system';

export function kanbanRabbitMq(tuning: KanbanTuning = KANBAN_DEFAULT_TUNING): QueueSystem {
  const tuned = tuning !== KANBAN_DEFAULT_TUNING;
  return {
    id: tuned ? 'kanban-rabbitmq-tuned' : 'kanban-rabbitmq',
    label: tuned ? `kanban/RabbitMQ pull ${tuning.workerPullSize}` : 'kanban/RabbitMQ',
    unavailable: (brokers) => (brokers.rabbitmq ? undefined : `no rabbitmq-server: ${brokers.missing.rabbitmq}`),
    open: (context) => openKanbanApp(context, { rabbitmq: { url: context.brokers.rabbitmq!.url, queuePrefix: 'bench' } }, tuning),
  };
}

export const kanbanRabbitMqTuned = (): QueueSystem => kanbanRabbitMq(KANBAN_TUNED_TUNING);
