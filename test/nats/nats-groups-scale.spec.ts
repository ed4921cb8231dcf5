import { performance } from 'node:perf_hooks';
import type { WorkItem } from '../../libs/kanban/src/interfaces';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const GROUPS = 10_000;
const PUBLISH_CONCURRENCY = 50;
const PULL_SIZE = 100;
/** Generous for a loaded 2-core machine; a stall (an item never handed out) fails well before Jest's timeout. */
const DRAIN_TIMEOUT_MS = 120_000;

async function publishAll(transport: NatsTransport, items: WorkItem[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await transport.publish(items[next++]);
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

describe('NATS groups at scale', () => {
  afterEach(() => harness.cleanup());

  it(
    'publishes one item to each of 10,000 groups of one domain and hands every one out once',
    async () => {
      // Arrange
      const transport = await harness.create(contractSettings({ workerPullSize: PULL_SIZE, groups: { window: 5, metrics: false, domains: {} } }));
      const domain = testNamespace().domain('tenants');
      const items = Array.from({ length: GROUPS }, (_, n) => makeItem({ domain, group: `tenant-${n}`, payload: { n } }));
      const started = performance.now();

      // Act
      await publishAll(transport, items);
      const published = performance.now();
      const seen = new Set<string>();
      while (seen.size < GROUPS && performance.now() - published < DRAIN_TIMEOUT_MS) {
        const batch = await transport.pull({ priority: 'normal', domain }, PULL_SIZE, { leaseMs: 30_000, waitMs: 500 });
        for (const delivery of batch) seen.add(delivery.id);
        await Promise.all(batch.map((delivery) => transport.ack(delivery)));
      }
      const drained = performance.now();

      // Assert
      console.log(`NATS groups at scale: ${GROUPS} groups, publish ${Math.round(published - started)} ms, drain ${Math.round(drained - published)} ms`);
      expect(seen.size).toBe(GROUPS);
      expect(new Set(items.map((item) => item.id))).toEqual(seen);
      expect((await transport.listGroups(domain, { limit: 10 })).items).toEqual([]);
    },
    DRAIN_TIMEOUT_MS + 60_000,
  );
});
