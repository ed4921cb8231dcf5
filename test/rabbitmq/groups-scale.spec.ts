import { performance } from 'node:perf_hooks';
import type { WorkItem } from '../../libs/kanban/src/interfaces';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { brokersOfThisWorker, readHarnessState } from '../harness/broker-state';
import { rabbitmqctlOutput } from '../harness/local-rabbitmq';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const harness = createRabbitMqHarness();
const GROUPS = 10_000;
const PUBLISH_CONCURRENCY = 50;
const PULL_SIZE = 100;
/** Generous for a loaded 2-core machine; a stall (an item never handed out) fails well before Jest's timeout. */
const DRAIN_TIMEOUT_MS = 120_000;
const RABBITMQCTL_TIMEOUT_MS = 30_000;

async function publishAll(transport: RabbitMqTransport, items: WorkItem[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await transport.publish(items[next++]);
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

/** The broker's total memory as `rabbitmqctl status` reports it, when the harness runs the node. */
async function brokerMemory(): Promise<string> {
  const state = readHarnessState();
  const local = state && brokersOfThisWorker(state).rabbitmq?.local;
  if (!local) return 'n/a (broker not run by the harness)';
  const status = await rabbitmqctlOutput(local, ['status'], RABBITMQCTL_TIMEOUT_MS);
  return /Total memory used: ([\d.]+ \w+)/.exec(status)?.[1] ?? 'unknown';
}

afterAll(() => harness.dispose());

describe('RabbitMQ groups at scale', () => {
  afterEach(() => harness.cleanup());

  it(
    'publishes one item to each of 10,000 groups of one domain and hands every one out once',
    async () => {
      // Arrange
      const transport = await harness.create(contractSettings({ workerPullSize: PULL_SIZE, maxQueueDepth: 100_000, groups: { window: 5, metrics: false, domains: {} } }));
      const domain = testNamespace().domain('tenants');
      await transport.ensureQueue('normal', domain);
      const items = Array.from({ length: GROUPS }, (_, n) => makeItem({ domain, group: `tenant-${n}`, payload: { n } }));
      const memoryBefore = await brokerMemory();
      const started = performance.now();

      // Act
      await publishAll(transport, items);
      const published = performance.now();
      const memoryPublished = await brokerMemory();
      const drainStarted = performance.now();
      const seen = new Set<string>();
      const groupsSeen = new Set<string>();
      while (seen.size < GROUPS && performance.now() - drainStarted < DRAIN_TIMEOUT_MS) {
        const batch = await transport.pull({ priority: 'normal', domain }, PULL_SIZE, { leaseMs: 30_000, waitMs: 500 });
        for (const delivery of batch) {
          seen.add(delivery.id);
          if ('item' in delivery && delivery.item.group) groupsSeen.add(delivery.item.group);
        }
        await Promise.all(batch.map((delivery) => transport.ack(delivery)));
      }
      const drained = performance.now();

      // Assert
      console.log(
        `RabbitMQ groups at scale: ${GROUPS} groups, publish ${Math.round(published - started)} ms, drain ${Math.round(drained - drainStarted)} ms, ` +
          `broker memory ${memoryBefore} before, ${memoryPublished} with every item published`,
      );
      expect(seen.size).toBe(GROUPS);
      expect(groupsSeen.size).toBe(GROUPS);
      expect(new Set(items.map((item) => item.id))).toEqual(seen);
      expect((await transport.listGroups(domain, { limit: 10 })).items).toEqual([]);
    },
    DRAIN_TIMEOUT_MS + 60_000,
  );
});
