import { performance } from 'node:perf_hooks';
import type { Delivery, WorkItem } from '../../libs/kanban/src/interfaces';
import { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { kill9 } from '../harness/local-process';
import { persistedRaNames, raServerName, relaunchLocalRabbitMq } from '../harness/local-rabbitmq';
import { Ledger } from '../ledger/ledger';
import { ACK_IN_FLIGHT_WINDOW_MS } from '../failover/support/duplicates';
import { QUEUE_DRAIN_TIMEOUT_MS, busyRows } from '../chaos/support/queue-drain';
import { privateRabbitMqNode } from './support/private-rabbitmq-node';

const GROUPS = 20;
const ITEMS_PER_GROUP = 40;
/** Groups with a cap, so the kill finds some of them at their cap with the rest buffered. */
const CAPPED_GROUPS = 5;
const PUBLISH_CONCURRENCY = 10;
const WORKERS = 3;
const PULL_SIZE = 10;
/** The node dies once this many publishes resolved, and stays down for OUTAGE_PUBLISHES refused ones. */
const KILL_AFTER = 300;
const OUTAGE_PUBLISHES = 50;
const LEASE_MS = 4_000;
const PUBLISH_TIMEOUT_MS = 500;
const ERROR_BACKOFF_MS = 100;
/** Ra saves its directory of queue names once left alone for 500 ms; this is plenty. */
const RA_NAMES_SAVED_TIMEOUT_MS = 15_000;
/** Workers give up after this whatever happens, so a failing test cannot keep Jest alive. */
const WORKER_DEADLINE_MS = 150_000;

const keyOf = (item: WorkItem): string => (item.payload as { key: string }).key;

/** kill -9 of the node while grouped items are published, buffered by the grouped queue's consumer and leased; on a node of its own. */
describe('RabbitMQ groups: kill -9 of the node', () => {
  const node = privateRabbitMqNode();

  it('keeps every grouped item whose publish resolved: each is handed out and acked, none lost, the grouped queue empty after the restart', async () => {
    // Arrange
    const local = node();
    const prefix = testNamespace().queuePrefix;
    const names = new RabbitMqNames(prefix);
    const settings = contractSettings({ leaseMs: LEASE_MS, maxAttempts: 20, retryBackoffMs: [200], workerPullSize: PULL_SIZE, groups: { window: 5, metrics: false, domains: {} } });
    const transport = new RabbitMqTransport({ url: `amqp://guest:guest@127.0.0.1:${local.port}`, queuePrefix: prefix, publishTimeoutMs: PUBLISH_TIMEOUT_MS }, settings);
    const domain = testNamespace().domain('groupkill');
    const ledger = new Ledger();
    const held = new Set<string>();
    const ackTimes: number[] = [];
    let inFlightAtKill = 0;
    let working = true;
    let workers: Promise<void>[] = [];
    try {
      await transport.connect();
      await transport.ensureQueue('normal', domain);
      for (let g = 0; g < CAPPED_GROUPS; g++) await transport.setGroupLimits(domain, `g${g}`, { maxInFlight: 2 });
      // A quorum queue whose Ra name was not saved comes back without a leader after a kill -9 (see the RabbitMQ README).
      const raNames = [names.workQueue('normal', domain), names.groupQueue('normal', domain), names.intakeQueue, names.delayDueQueue].map(raServerName);
      await waitFor(
        async () => {
          const saved = await persistedRaNames(local);
          return raNames.every((name) => saved.includes(name));
        },
        { timeoutMs: RA_NAMES_SAVED_TIMEOUT_MS, intervalMs: 200, description: 'Ra to save the queue names' },
      );
      const items = Array.from({ length: ITEMS_PER_GROUP }, (_, n) => Array.from({ length: GROUPS }, (_, g) => makeItem({ domain, group: `g${g}`, payload: { key: `g${g}-${n}` } }))).flat();
      workers = Array.from({ length: WORKERS }, () => runWorker(transport, domain, ledger, held, ackTimes, () => working));

      // Act
      const outage = (async () => {
        await waitFor(() => ledger.acknowledgedCount >= KILL_AFTER, { timeoutMs: 60_000, intervalMs: 5, description: `${KILL_AFTER} acknowledged publishes` });
        const killedAt = performance.now();
        inFlightAtKill = held.size + ackTimes.filter((at) => at >= killedAt - ACK_IN_FLIGHT_WINDOW_MS).length;
        await kill9(local.pid);
        await waitFor(() => ledger.summary().rejected >= OUTAGE_PUBLISHES, { timeoutMs: 60_000, intervalMs: 20, description: `${OUTAGE_PUBLISHES} refused publishes while the node is down` });
        local.pid = await relaunchLocalRabbitMq(local);
      })();
      outage.catch(() => undefined);
      await publishAll(transport, items, ledger);
      await outage;
      await waitFor(() => transport.currentStatus.state === 'up', { timeoutMs: 60_000, intervalMs: 100, description: 'the transport to reconnect' });
      // Drained without reading dead letters: RabbitMQ 3.10 may not bring a stream declared shortly before a kill -9 back (see the
      // README), and every acknowledged item must be processed here anyway (none may end as a dead letter).
      await waitFor(async () => ledger.outstanding().length === 0 && (await busyRows(transport, domain)).length === 0, {
        timeoutMs: QUEUE_DRAIN_TIMEOUT_MS,
        intervalMs: 250,
        description: 'every acknowledged item processed and the queues empty',
      });
      working = false;
      await Promise.all(workers);

      // Assert
      const summary = ledger.summary();
      process.stdout.write(`${ledger.line('RabbitMQ groups: kill -9 of the node', { items: items.length, groups: GROUPS, inFlightAtKill })}\n`);
      expect(summary).toMatchObject({ attempted: items.length, lost: 0, unexpected: 0, acknowledgedDeadLettered: 0 });
      expect(summary.acknowledged + summary.rejected).toBe(items.length);
      expect(summary.rejected).toBeGreaterThanOrEqual(OUTAGE_PUBLISHES);
      expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtKill);
      expect(await busyRows(transport, domain)).toEqual([]);
      expect((await transport.listGroups(domain, { limit: 1_000 })).items.filter((group) => group.ready + group.inFlight > 0)).toEqual([]);
    } finally {
      working = false;
      await Promise.all(workers);
      await transport.close();
    }
  }, 240_000);
});

/** Publishes every item once, PUBLISH_CONCURRENCY at a time; a refused publish is recorded, never retried. */
async function publishAll(transport: RabbitMqTransport, items: WorkItem[], ledger: Ledger): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      ledger.attempt(keyOf(item));
      try {
        const receipt = await transport.publish(item);
        ledger.acknowledge(keyOf(item), receipt.broker);
      } catch (error) {
        ledger.reject(keyOf(item), (error as Error).name);
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

/** Pulls, records and acks until told to stop; broker errors back off and go on. */
async function runWorker(transport: RabbitMqTransport, domain: string, ledger: Ledger, held: Set<string>, ackTimes: number[], keepGoing: () => boolean): Promise<void> {
  const deadline = performance.now() + WORKER_DEADLINE_MS;
  while (keepGoing() && performance.now() < deadline) {
    let batch;
    try {
      batch = await transport.pull({ domain, priority: 'normal' }, PULL_SIZE, { leaseMs: LEASE_MS, waitMs: 300 });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
      continue;
    }
    for (const delivery of batch.filter((d): d is Delivery => 'item' in d)) {
      const key = keyOf(delivery.item);
      held.add(key);
      ledger.process(key, delivery.item.attempts);
      await transport.ack(delivery).then(
        () => ackTimes.push(performance.now()),
        () => undefined,
      );
      held.delete(key);
    }
  }
}
