import { setTimeout as sleep } from 'node:timers/promises';
import { kanbanFailover, openKanbanFailover } from '../systems/kanban-failover';
import { BENCH_PRIORITY } from '../systems/kanban-app';
import { waitFor } from '../../test/harness/wait-for';
import type { Scenario } from './scenario';

/** Publishes kept in flight while the broker is killed: enough to see the first one that lands elsewhere. */
const FAILOVER_PUBLISHERS = 4;
/** Publishing on NATS before the kill, so the switch starts from a warm, settled state. */
const STEADY_BEFORE_KILL_MS = 1_000;
const SWITCH_TIMEOUT_MS = 30_000;
const POLL_MS = 2;

interface Receipt {
  startedAt: number;
  resolvedAt: number;
  broker: string;
}

/**
 * Scenario 7: publishers run continuously; nats-server is killed with -9, and the switch time is
 * from the kill to the first publish RabbitMQ acknowledged. Then nats-server starts again (same
 * port and store), and the way back is from JetStream answering to the first publish NATS holds.
 */
export function failoverScenario(): Scenario {
  const system = kanbanFailover();
  return {
    id: 'failover',
    title: '7. Failover switch time',
    describe: (config) => `kanban with nats and rabbitmq configured, ${FAILOVER_PUBLISHERS} publishers running; kill -9 of nats-server, then restart, ${config.failoverCycles} cycle(s).`,
    systems: [system],
    metrics: [
      { key: 'switchMs', label: 'kill -9 of NATS → first publish on RabbitMQ', unit: 'ms', higherIsBetter: false },
      { key: 'backMs', label: 'NATS ready → first publish on NATS', unit: 'ms', higherIsBetter: false },
    ],
    runs: (config) => config.failoverCycles,
    measure: async (_system, context) => {
      const nats = context.brokers.nats!;
      const open = await openKanbanFailover({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      const receipts: Receipt[] = [];
      let publishing = true;
      const publisher = async (): Promise<void> => {
        while (publishing) {
          const startedAt = performance.now();
          try {
            const receipt = await open.queue.publish({ priority: BENCH_PRIORITY, domain: open.domain, payload: { t: startedAt }, deadlineMs: 3_600_000 });
            receipts.push({ startedAt, resolvedAt: performance.now(), broker: receipt.broker });
          } catch {
            await sleep(POLL_MS);
          }
        }
      };
      const publishers = Array.from({ length: FAILOVER_PUBLISHERS }, publisher);
      try {
        await sleep(STEADY_BEFORE_KILL_MS);
        const killedAt = performance.now();
        await nats.kill9();
        const onRabbit = await firstReceipt(receipts, (r) => r.broker === 'rabbitmq' && r.resolvedAt > killedAt, 'a publish acknowledged by RabbitMQ after the kill');
        await nats.relaunch();
        const readyAt = performance.now();
        const onNats = await firstReceipt(receipts, (r) => r.broker === 'nats' && r.startedAt >= readyAt, 'a publish on NATS after it came back');
        return { switchMs: onRabbit.resolvedAt - killedAt, backMs: onNats.resolvedAt - readyAt };
      } finally {
        publishing = false;
        await Promise.all(publishers);
        await open.close();
        // A failed cycle must not leave the scenarios after it without NATS.
        if (!nats.isRunning()) await nats.relaunch();
      }
    },
  };
}

function firstReceipt(receipts: Receipt[], match: (receipt: Receipt) => boolean, description: string): Promise<Receipt> {
  return waitFor(() => receipts.find(match), { timeoutMs: SWITCH_TIMEOUT_MS, intervalMs: POLL_MS, description });
}
