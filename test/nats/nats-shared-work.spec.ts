import type { KanbanTransport } from '../../libs/kanban/src/transport';
import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const ITEMS = 1_000;
const WORKERS_PER_INSTANCE = 3;

describe('NATS: two server instances on the same streams', () => {
  afterEach(() => harness.cleanup());

  it('share the work and, in the happy path, never deliver an item twice', async () => {
    // Arrange
    const settings = contractSettings({ workerPullSize: 10 });
    const first = await harness.create(settings);
    const second = await harness.sibling(first, settings);
    const domain = testNamespace().domain('shared');
    const items = Array.from({ length: ITEMS }, (_, n) => makeItem({ domain, payload: { n } }));
    for (let i = 0; i < items.length; i += 50) await Promise.all(items.slice(i, i + 50).map((item) => first.publish(item)));
    const deliveredBy = new Map<KanbanTransport, string[]>([
      [first, []],
      [second, []],
    ]);
    const total = (): number => [...deliveredBy.values()].reduce((sum, ids) => sum + ids.length, 0);
    const worker = (transport: KanbanTransport) =>
      waitFor(
        async () => {
          const batch = await transport.pull({ domain }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
          deliveredBy.get(transport)!.push(...batch.map((d) => d.id));
          await Promise.all(batch.map((d) => transport.ack(d)));
          return total() >= ITEMS;
        },
        { timeoutMs: 60_000, intervalMs: 0, description: `${ITEMS} items processed by both instances` },
      );

    // Act
    await Promise.all([first, second].flatMap((transport) => Array.from({ length: WORKERS_PER_INSTANCE }, () => worker(transport))));

    // Assert
    const all = [...deliveredBy.values()].flat();
    expect(all).toHaveLength(ITEMS);
    expect(new Set(all).size).toBe(ITEMS);
    expect(deliveredBy.get(first)!.length).toBeGreaterThan(0);
    expect(deliveredBy.get(second)!.length).toBeGreaterThan(0);
  });
});
