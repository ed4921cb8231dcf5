import { Logger } from '@nestjs/common';
import { connect } from 'amqplib';
import { encodeItem } from '../../libs/kanban/src/codec';
import type { QueueRef, TransportDelivery, WorkItem } from '../../libs/kanban/src/interfaces';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { spillOwnerQueueOf } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { RabbitMqTopology } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-topology';
import { RABBITMQ_GROUP_PREFETCH, RABBITMQ_GROUP_SPILL_BURST, RABBITMQ_GROUP_SPILL_ORPHAN_MS, RABBITMQ_HEADERS } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq.constants';
import { LONG_LEASE_MS, contractSettings, eventually, makeItem } from '../contract/contract-helpers';
import { rabbitmqBroker, testNamespace } from '../harness';
import { brokersOfThisWorker, readHarnessState } from '../harness/broker-state';
import { rabbitmqctlOutput } from '../harness/local-rabbitmq';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const harness = createRabbitMqHarness();
const PUBLISH_CONCURRENCY = 50;
const PULL_SIZE = 20;
const LIGHT_GROUPS = 10;
const ITEMS_PER_LIGHT_GROUP = 5;
/** Short, so the holder's sweep (every half of it) deletes a drained spill queue within the test. */
const RELEASE_IDLE_AFTER_MS = 2_000;
const SPILL_DELETED_WITHIN_MS = 30_000;
const RABBITMQCTL_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 180_000;

async function publishAll(transport: RabbitMqTransport, items: WorkItem[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await transport.publish(items[next++]);
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

/** Pulls and acks until `count` deliveries arrived; every delivery in hand-out order. */
async function drain(transport: RabbitMqTransport, queue: QueueRef, count: number, seen: TransportDelivery[] = []): Promise<TransportDelivery[]> {
  await eventually(
    `${count} deliveries`,
    async () => {
      const batch = await transport.pull(queue, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
      seen.push(...batch);
      await Promise.all(batch.map((delivery) => transport.ack(delivery)));
      return seen.length >= count ? seen : undefined;
    },
    TEST_TIMEOUT_MS / 2,
  );
  return seen;
}

/** The spill queues of `groupQueue` on the test broker, by name. */
async function spillQueues(groupQueue: string): Promise<string[]> {
  const state = readHarnessState();
  const local = state && brokersOfThisWorker(state).rabbitmq?.local;
  if (!local) throw new Error('these tests list queues with rabbitmqctl: they need the harness-run broker');
  const listing = await rabbitmqctlOutput(local, ['list_queues', 'name', '--quiet', '--no-table-headers'], RABBITMQCTL_TIMEOUT_MS);
  return listing
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.startsWith(`${groupQueue}.spill.`) && !name.endsWith('.owner'));
}

function heavyAndLight(domain: string, heavy: number): { heavy: WorkItem[]; light: WorkItem[] } {
  return {
    heavy: Array.from({ length: heavy }, (_, n) => makeItem({ domain, group: 'heavy', payload: { n } })),
    light: Array.from({ length: LIGHT_GROUPS * ITEMS_PER_LIGHT_GROUP }, (_, n) => makeItem({ domain, group: `light-${n % LIGHT_GROUPS}`, payload: { n } })),
  };
}

afterAll(() => harness.dispose());

describe('RabbitMQ groups: a bursting group spills into a queue of its own', () => {
  afterEach(() => harness.cleanup());

  it(
    "hands a light group's items out within (busy groups × pull size) hand-outs behind a burst larger than the holder's prefetch, each item once, and deletes the drained spill queue",
    async () => {
      // Arrange: more heavy items than the holder can see at once, then a few items of light groups
      const settings = contractSettings({ workerPullSize: PULL_SIZE, maxQueueDepth: 100_000 });
      const transport = await harness.create(settings, { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
      const queue = { priority: 'normal' as const, domain: testNamespace().domain('tenants') };
      const groupQueue = harness.namesOf(transport).groupQueue(queue.priority, queue.domain);
      const items = heavyAndLight(queue.domain, RABBITMQ_GROUP_PREFETCH + 2_000);
      await transport.ensureQueue(queue.priority, queue.domain);
      await publishAll(transport, items.heavy);
      await publishAll(transport, items.light);
      const spilledTo = await spillQueues(groupQueue);

      // Act
      const handedOut = await drain(transport, queue, items.heavy.length + items.light.length);

      // Assert
      expect(spilledTo).toHaveLength(1);
      const lightIds = new Set(items.light.map((item) => item.id));
      const lastLight = Math.max(...handedOut.flatMap((delivery, index) => (lightIds.has(delivery.id) ? [index] : [])));
      expect(lastLight).toBeLessThan((LIGHT_GROUPS + 1) * PULL_SIZE);
      expect(handedOut.map((delivery) => delivery.id).sort()).toEqual([...items.heavy, ...items.light].map((item) => item.id).sort());
      await eventually('the drained spill queue to be deleted', async () => ((await spillQueues(groupQueue)).length === 0 ? true : undefined), SPILL_DELETED_WITHIN_MS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "counts a spill queue's items in the depth and the group listing of an instance that neither published nor holds them",
    async () => {
      // Arrange: one instance publishes a burst and pulls nothing; another one only counts
      const settings = contractSettings({ workerPullSize: PULL_SIZE, maxQueueDepth: 100_000 });
      const publisher = await harness.create(settings);
      const queue = { priority: 'normal' as const, domain: testNamespace().domain('tenants') };
      const groupQueue = harness.namesOf(publisher).groupQueue(queue.priority, queue.domain);
      const { heavy } = heavyAndLight(queue.domain, 4 * RABBITMQ_GROUP_SPILL_BURST);
      await publisher.ensureQueue(queue.priority, queue.domain);
      await publishAll(publisher, heavy);
      const counter = (await harness.peer!(publisher, settings)) as RabbitMqTransport;
      await counter.ensureQueue(queue.priority, queue.domain);
      const admin = await (await harness.admin()).createChannel();
      const inGroupedQueue = (await admin.checkQueue(groupQueue)).messageCount;
      await admin.close();

      // Act: the counter reads the spills stream in the background from its first count
      const ready = await eventually('the spill queue in the depth', async () => {
        const row = (await counter.depth()).find((depth) => depth.priority === queue.priority && depth.domain === queue.domain);
        return row && row.ready === heavy.length ? row.ready : undefined;
      });
      const [group] = (await counter.listGroups(queue.domain, {})).items;

      // Assert: the grouped queue holds the burst's first items and the spill marker, the spill queue the rest
      expect(ready).toBe(heavy.length);
      expect(group).toMatchObject({ group: 'heavy', ready: heavy.length - (inGroupedQueue - 1), inFlight: 0 });
      expect(inGroupedQueue - 1).toBeLessThan(heavy.length);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'drains and deletes the spill queue of a publisher whose connection died before its end marker, once its owner queue is gone and it was quiet',
    async () => {
      // Arrange: a foreign client opens a spill the way a kanban publisher does, sends items, and dies without an end marker
      const settings = contractSettings({ workerPullSize: PULL_SIZE });
      const holder = await harness.create(settings, { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
      const queue = { priority: 'normal' as const, domain: testNamespace().domain('tenants') };
      const names = harness.namesOf(holder);
      await holder.ensureQueue(queue.priority, queue.domain);
      const spillQueue = names.spillQueue(queue.priority, queue.domain, 'heavy', 'killed1');
      const items = Array.from({ length: 50 }, (_, n) => makeItem({ domain: queue.domain, group: 'heavy', payload: { n } }));
      const publisher = await connect(rabbitmqBroker().url);
      const channel = await publisher.createConfirmChannel();
      await channel.assertQueue(spillOwnerQueueOf(spillQueue), { exclusive: true, durable: false });
      await channel.assertQueue(spillQueue, {
        durable: true,
        arguments: { ...new RabbitMqTopology(names, settings, new Logger('spill-test')).workQueueArguments(), 'x-single-active-consumer': true },
      });
      const target = names.publishTarget(queue.priority, queue.domain, true);
      channel.publish(target.exchange, target.routingKey, Buffer.alloc(0), { persistent: true, headers: { [RABBITMQ_HEADERS.spill]: spillQueue, [RABBITMQ_HEADERS.group]: 'heavy' } });
      for (const item of items) channel.sendToQueue(spillQueue, encodeItem(item), { persistent: true, messageId: item.id, headers: { [RABBITMQ_HEADERS.group]: 'heavy' } });
      await channel.waitForConfirms();

      // Act
      const handedOut = await drain(holder, queue, items.length);
      await publisher.close();

      // Assert
      expect(handedOut.map((delivery) => delivery.id).sort()).toEqual(items.map((item) => item.id).sort());
      // A worker keeps pulling meanwhile: a holder nobody pulls from lets the grouped queue go, and the next one deletes the spill queue.
      const stillPulling = await eventually(
        'the orphaned spill queue to be deleted',
        async () => {
          const late = await holder.pull(queue, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
          return (await spillQueues(names.groupQueue(queue.priority, queue.domain))).length === 0 ? late : undefined;
        },
        RABBITMQ_GROUP_SPILL_ORPHAN_MS + SPILL_DELETED_WITHIN_MS,
      );
      expect(stillPulling).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lets the next holder consume the spill queue when the holder closes mid-burst: every item handed out once across both',
    async () => {
      // Arrange: the first instance publishes a burst and holds the grouped queue for a while
      const settings = contractSettings({ workerPullSize: PULL_SIZE, maxQueueDepth: 100_000 });
      const first = await harness.create(settings, { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
      const queue = { priority: 'normal' as const, domain: testNamespace().domain('tenants') };
      const groupQueue = harness.namesOf(first).groupQueue(queue.priority, queue.domain);
      const items = heavyAndLight(queue.domain, 4 * RABBITMQ_GROUP_SPILL_BURST);
      await first.ensureQueue(queue.priority, queue.domain);
      await publishAll(first, items.heavy);
      await publishAll(first, items.light);
      const spilledTo = await spillQueues(groupQueue);
      const atFirst = await drain(first, queue, 5 * PULL_SIZE);
      const second = (await harness.peer!(first, settings)) as RabbitMqTransport;

      // Act: the first instance closes (hands back what it buffered and its spill markers)
      await first.close();
      const atSecond = await drain(second, queue, items.heavy.length + items.light.length - atFirst.length);

      // Assert
      expect(spilledTo).toHaveLength(1);
      const handedOut = [...atFirst, ...atSecond].map((delivery) => delivery.id).sort();
      expect(handedOut).toEqual([...items.heavy, ...items.light].map((item) => item.id).sort());
      await eventually('the drained spill queue to be deleted', async () => ((await spillQueues(groupQueue)).length === 0 ? true : undefined), SPILL_DELETED_WITHIN_MS);
    },
    TEST_TIMEOUT_MS,
  );
});
