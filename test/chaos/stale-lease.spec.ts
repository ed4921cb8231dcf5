import { performance } from 'node:perf_hooks';
import type { Delivery, KanbanModuleOptions } from '../../libs/kanban/src';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor, type TestNamespace } from '../harness';
import { Ledger } from '../ledger/ledger';
import { CHAOS_MODULE_OPTIONS } from '../failover/support/chaos-options';
import { deleteNatsStreams, purgeNamespace } from '../failover/support/purge-namespace';
import { createKanbanTestApp, type KanbanTestApp } from '../library/support/kanban-test-app';
import { ChildApp } from './support/child-app';
import { busyRows, drainQueue } from './support/queue-drain';
import type { LeaseWorkerConfig } from './fixtures/lease-worker';

/** Items the frozen worker holds. */
const ITEMS = 20;
const START_TIMEOUT_MS = 30_000;
/**
 * NATS: the frozen worker's lease (4 s) and JetStream's ack wait (4.1 s) lapse well within 30 s.
 * RabbitMQ: the broker requeues what a frozen client holds once it closes the connection for missed
 * heartbeats (WORKER_HEARTBEAT_S asked by the worker, so within three intervals).
 */
const REDELIVERY_TIMEOUT_MS = { nats: 30_000, rabbitmq: 90_000 };
/** The frozen RabbitMQ worker's heartbeat: what it holds comes back after seconds, not kanban's default 20-30 s. */
const WORKER_HEARTBEAT_S = 2;
const STEP_TIMEOUT_MS = 15_000;

const keyOf = (delivery: Delivery): string => (delivery.item.payload as { key: string }).key;

interface Setup {
  transport: 'nats' | 'rabbitmq';
  /** Module options for the broker, and the fixture's config. */
  options(namespace: TestNamespace): KanbanModuleOptions;
  worker(namespace: TestNamespace, domain: string): LeaseWorkerConfig;
}

const SETUPS: Setup[] = [
  {
    transport: 'nats',
    options: (namespace) => ({ nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix } }),
    worker: (namespace, domain) => ({ transport: 'nats', url: natsBroker().url, prefix: namespace.streamPrefix, domain }),
  },
  {
    transport: 'rabbitmq',
    options: (namespace) => ({ rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix } }),
    worker: (namespace, domain) => ({ transport: 'rabbitmq', url: `${rabbitmqBroker().url}?heartbeat=${WORKER_HEARTBEAT_S}`, prefix: namespace.queuePrefix, domain }),
  },
];

describe.each(SETUPS)('chaos: a worker SIGSTOPped past its lease and resumed ($transport)', (setup) => {
  it('cannot settle the newer delivery: its acks fail with LeaseExpiredError, the new holder acks, nothing is lost', async () => {
    // Arrange
    const namespace = testNamespace();
    const domain = namespace.domain('stale');
    const ledger = new Ledger();
    let app: KanbanTestApp | undefined;
    let worker: ChildApp | undefined;
    try {
      app = await createKanbanTestApp({ transport: setup.transport, options: { ...CHAOS_MODULE_OPTIONS, startWorkers: false, ...setup.options(namespace) } });
      const queue = app.queue;
      for (let n = 0; n < ITEMS; n++) {
        const key = `stale-${n}`;
        ledger.attempt(key);
        ledger.acknowledge(key, (await queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 })).broker);
      }
      const child = (worker = new ChildApp('lease-worker.ts', setup.worker(namespace, domain)));
      await child.waitForLine('ready', START_TIMEOUT_MS);
      await waitFor(
        async () => {
          child.send(`pull ${ITEMS}`);
          await child.waitForLine('pull-done', STEP_TIMEOUT_MS, child.count('pull-done') + 1);
          return child.count('pulled') >= ITEMS;
        },
        { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 0, description: `the worker to hold ${ITEMS} items` },
      );
      for (const [, key, attempts] of child.linesOf('pulled')) ledger.process(key, Number(attempts));

      // Act
      const stoppedAt = performance.now();
      child.signal('SIGSTOP');
      const inFlightAtFault = child.count('pulled');
      // The command waits in the pipe: the worker acks the moment it runs again.
      child.send('ack');
      const newer = new Map<string, Delivery>();
      await waitFor(
        async () => {
          for (const delivery of await queue.pull({ domain, priority: 'normal', max: ITEMS, waitMs: 500 })) newer.set(keyOf(delivery), delivery);
          return newer.size >= ITEMS;
        },
        { timeoutMs: REDELIVERY_TIMEOUT_MS[setup.transport], intervalMs: 0, description: `${ITEMS} items redelivered while the worker is frozen` },
      );
      const redeliveredAfterMs = Math.round(performance.now() - stoppedAt);
      for (const [key, delivery] of newer) ledger.process(key, delivery.item.attempts);
      child.signal('SIGCONT');
      await child.waitForLine('ack-done', STEP_TIMEOUT_MS);
      const staleAcks = child.lines.filter(([kind]) => kind === 'ack-ok' || kind === 'ack-failed').map(([kind, key, error]) => ({ key, outcome: kind === 'ack-ok' ? 'acked' : error }));
      const newerAcks = await Promise.all(
        [...newer.values()].map((delivery) =>
          queue.ack(delivery.id, delivery.domain, delivery.lease).then(
            () => 'acked',
            (error: unknown) => (error as Error).name,
          ),
        ),
      );
      await drainQueue(queue, domain, ledger);

      // Assert
      const summary = ledger.summary();
      console.log(
        ledger.line(`chaos stale lease (worker SIGSTOPped past its lease, ${setup.transport})`, {
          inFlightAtFault,
          redeliveredAfterMs,
          staleAcksRefused: staleAcks.filter((ack) => ack.outcome === 'LeaseExpiredError').length,
        }),
      );
      expect(staleAcks).toHaveLength(ITEMS);
      expect(staleAcks.filter((ack) => ack.outcome !== 'LeaseExpiredError')).toEqual([]);
      expect(newerAcks).toEqual(newerAcks.map(() => 'acked'));
      expect([...newer.values()].map((delivery) => delivery.item.attempts)).toEqual(newerAcks.map(() => 2));
      expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, acknowledgedDeadLettered: 0, lost: 0, unexpected: 0 });
      // Each item was worked on by the frozen worker and by the new holder, never a third time.
      expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
      expect(summary.processings).toBe(2 * ITEMS);
      expect(await busyRows(queue, domain)).toEqual([]);
    } finally {
      await worker?.terminate();
      await app?.close();
      if (setup.transport === 'nats') await deleteNatsStreams(namespace);
      else await purgeNamespace(namespace, [domain]).catch(() => undefined);
    }
  }, 180_000);
});
