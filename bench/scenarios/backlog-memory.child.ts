import type { BenchBrokers } from '../brokers/bench-brokers';
import { openedKanban } from '../systems/kanban-app';
import { kanbanEmbedded } from '../systems/kanban-embedded';
import { kanbanNats } from '../systems/kanban-nats';
import { kanbanRabbitMq } from '../systems/kanban-rabbitmq';
import { benchItem, type QueueSystem } from '../systems/queue-system';

/** What the parent passes as argv[2] (JSON). */
export interface BacklogMemoryJob {
  system: string;
  natsUrl?: string;
  rabbitmqUrl?: string;
  tempDir: string;
  tag: string;
  items: number;
  domains: number;
}

/** The line the child prints last, as JSON. */
export interface BacklogMemoryReport {
  idleRssMiB: number;
  backlogRssMiB: number;
}

const SYSTEMS: Record<string, () => QueueSystem> = { 'kanban-nats': kanbanNats, 'kanban-rabbitmq': kanbanRabbitMq, 'kanban-embedded': kanbanEmbedded };
const PUBLISH_CONCURRENCY = 100;
const SETTLE_MS = 1_000;

/**
 * Runs in a process of its own (`node --expose-gc`), so its RSS is kanban's alone: starts the app,
 * measures RSS, publishes the backlog with no consumer running, lets timers settle, collects
 * garbage and measures again.
 */
async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as BacklogMemoryJob;
  const refuse = async (): Promise<void> => {
    throw new Error('broker control is not available in the memory child');
  };
  const noPid = (): number => {
    throw new Error('broker processes are not known to the memory child');
  };
  const brokers: BenchBrokers = {
    nats: job.natsUrl ? { url: job.natsUrl, pid: noPid, kill9: refuse, relaunch: refuse, isRunning: () => true } : undefined,
    rabbitmq: job.rabbitmqUrl ? { url: job.rabbitmqUrl } : undefined,
    missing: {},
    processIds: () => [],
    stop: async () => undefined,
  };
  const kanban = openedKanban(await SYSTEMS[job.system]().open({ brokers, tempDir: job.tempDir, tag: job.tag }));
  try {
    const idleRssMiB = rssAfterGc();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < job.items) {
        const n = next++;
        await kanban.queue.publish({ priority: 'normal', domain: `${kanban.domain}-d${n % job.domains}`, payload: benchItem(n), deadlineMs: 3_600_000 });
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const report: BacklogMemoryReport = { idleRssMiB, backlogRssMiB: rssAfterGc() };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await kanban.close();
  }
}

function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss() / 2 ** 20;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
