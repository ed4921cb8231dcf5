import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KanbanConfigError } from '@tps/kanban';
import { KANBAN_DEFAULT_TUNING, openKanbanApp, type OpenKanban } from './kanban-app';
import { SystemSkippedError, type OpenContext, type QueueSystem } from './queue-system';

const FAILOVER_SOURCES = join(__dirname, '..', '..', 'libs', 'kanban', 'src', 'transports', 'failover');

/**
 * Kanban with both brokers configured, NATS up: the failover transport when this checkout's
 * createTransport picks it; skipped (with the library's own reason) while it refuses the pair.
 */
export function kanbanFailover(): QueueSystem {
  return {
    id: 'kanban-failover',
    label: 'kanban/failover',
    unavailable: (brokers) => {
      if (!brokers.nats || !brokers.rabbitmq) return `needs nats-server and rabbitmq-server (${Object.values(brokers.missing).join('; ')})`;
      if (!existsSync(FAILOVER_SOURCES)) return 'libs/kanban/src/transports/failover does not exist in this checkout';
      return undefined;
    },
    open: (context) => openKanbanFailover(context),
  };
}

export async function openKanbanFailover(context: OpenContext): Promise<OpenKanban> {
  try {
    return await openKanbanApp(
      context,
      {
        nats: { servers: [context.brokers.nats!.url], streamPrefix: 'BENCH' },
        rabbitmq: { url: context.brokers.rabbitmq!.url, queuePrefix: 'bench' },
      },
      KANBAN_DEFAULT_TUNING,
    );
  } catch (error) {
    if (error instanceof KanbanConfigError) throw new SystemSkippedError(`createTransport refuses nats + rabbitmq: ${error.message}`);
    throw error;
  }
}
