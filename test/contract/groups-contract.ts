import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { KanbanTransport, TransportSettings } from '../../libs/kanban/src/transport';
import type { GroupState, QueueRef, TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { ContractHarness } from './transport-contract';
import { EVENTUALLY_MS, LONG_LEASE_MS, contractSettings, eventually, letTimePass, makeItem, publishAll } from './contract-helpers';

const DOMAIN = 'orders';
const QUEUE: QueueRef = { domain: DOMAIN, priority: 'normal' };
/** A worker's pull size, and the NATS window of a group without limits: the fairness bound's unit. */
const WINDOW = 5;
/** Long enough to see that no more items come, short enough to keep the suite quick. */
const QUIET_MS = 1_500;

function groupSettings(overrides: Partial<TransportSettings['groups']> = {}): TransportSettings {
  return contractSettings({ workerPullSize: WINDOW, groups: { window: WINDOW, metrics: false, domains: {}, ...overrides } });
}

function groupOf(delivery: TransportDelivery): string | undefined {
  return 'item' in delivery ? delivery.item.group : undefined;
}

/** Pulls `WINDOW` at a time and acks each batch, until `count` items came; their groups, in hand-out order. */
async function drainInOrder(transport: KanbanTransport, count: number): Promise<TransportDelivery[]> {
  const order: TransportDelivery[] = [];
  const deadline = performance.now() + EVENTUALLY_MS * 3;
  while (order.length < count) {
    if (performance.now() > deadline) throw new Error(`Handed out ${order.length} of ${count} items in time`);
    const batch = await transport.pull(QUEUE, WINDOW, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
    order.push(...batch);
    for (const delivery of batch) await transport.ack(delivery);
  }
  return order;
}

/** Pulls without settling until nothing more comes for QUIET_MS; what it holds. */
async function leaseAll(transport: KanbanTransport, pullers: KanbanTransport[] = [transport]): Promise<TransportDelivery[]> {
  const held: TransportDelivery[] = [];
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_MS) {
    const batches = await Promise.all(pullers.map((puller) => puller.pull(QUEUE, WINDOW, { leaseMs: LONG_LEASE_MS, waitMs: 100 })));
    const got = batches.flat();
    if (got.length > 0) quietSince = performance.now();
    held.push(...got);
  }
  return held;
}

function countBy(deliveries: TransportDelivery[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const delivery of deliveries) {
    const group = groupOf(delivery) ?? '(default)';
    counts[group] = (counts[group] ?? 0) + 1;
  }
  return counts;
}

async function groupState(transport: KanbanTransport, group: string): Promise<GroupState | undefined> {
  const page = await transport.listGroups(DOMAIN, { limit: 1_000 });
  return page.items.find((state) => state.group === group);
}

/**
 * Fair share between groups, on every transport that keeps group state. A pull of a (priority,
 * domain) queue hands out across the groups with ready items, so a group's i-th item is handed out
 * within (⌊i / window⌋ + 1) × groups × window hand-outs (plus one pull); limits hold across instances.
 */
export function describeGroupsContract(name: string, harness: ContractHarness): void {
  describe(`${name} groups contract`, () => {
    afterEach(async () => {
      await harness.cleanup();
    });

    it("carries an item's group through publish, pull, dead letter and the listing", async () => {
      // Arrange
      const transport = await harness.create(groupSettings());
      const item = makeItem({ group: 'merchant-7' });
      await transport.publish(item);

      // Act
      const [delivery] = await transport.pull(QUEUE, 1, { leaseMs: LONG_LEASE_MS, waitMs: 2_000 });
      const letter = await transport.deadLetter(delivery, 'nack', 'boom');

      // Assert
      expect(groupOf(delivery)).toBe('merchant-7');
      expect(letter.item?.group).toBe('merchant-7');
    });

    it('hands a light group its items before the heavy group published ahead of it', async () => {
      // Arrange
      const transport = await harness.create(groupSettings());
      const heavy = Array.from({ length: 60 }, (_, n) => makeItem({ group: 'heavy', payload: { n } }));
      const light = Array.from({ length: 3 }, (_, n) => makeItem({ group: 'light', payload: { n } }));
      await publishAll(transport, [...heavy, ...light]);

      // Act
      const order = await drainInOrder(transport, heavy.length + light.length);

      // Assert: the light items are out within two groups' windows, not behind 60 heavy ones
      const lastLight = Math.max(...order.map((d, position) => (groupOf(d) === 'light' ? position : -1)));
      expect(lastLight).toBeLessThan(2 * WINDOW + WINDOW);
      expect(new Set(order.map((d) => d.id)).size).toBe(heavy.length + light.length);
    });

    it('keeps the fairness bound for any group sizes and publish order (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 * WINDOW }), { minLength: 2, maxLength: 5 }), async (sizes) => {
          // Arrange: each group's items published together, the groups one after another
          // (a fresh store per run, released even when the run fails, before fast-check shrinks)
          const transport = await harness.create(groupSettings());
          try {
            const items = sizes.flatMap((size, g) => Array.from({ length: size }, (_, n) => makeItem({ group: `g${g}`, payload: { n } })));
            await publishAll(transport, items);

            // Act
            const order = await drainInOrder(transport, items.length);

            // Assert
            const seenOfGroup: Record<string, number> = {};
            order.forEach((delivery, position) => {
              const group = groupOf(delivery) as string;
              const index = seenOfGroup[group] ?? 0;
              seenOfGroup[group] = index + 1;
              expect({ group, index, position, within: position < (Math.floor(index / WINDOW) + 1) * sizes.length * WINDOW + WINDOW }).toMatchObject({ within: true });
            });
            expect(new Set(order.map((d) => d.id)).size).toBe(items.length);
          } finally {
            await harness.cleanup();
          }
        }),
        { numRuns: 4 },
      );
    });

    it('never leases more of a group than its maxInFlight, and hands out the next once one is settled', async () => {
      // Arrange
      const transport = await harness.create(groupSettings());
      await transport.setGroupLimits(DOMAIN, 'capped', { maxInFlight: 2 });
      await publishAll(transport, [
        ...Array.from({ length: 8 }, (_, n) => makeItem({ group: 'capped', payload: { n } })),
        ...Array.from({ length: 4 }, (_, n) => makeItem({ group: 'free', payload: { n } })),
      ]);

      // Act
      const held = await leaseAll(transport);
      await transport.ack(held.find((d) => groupOf(d) === 'capped') as TransportDelivery);
      const next = await eventually('the next capped item', async () => {
        const batch = await transport.pull(QUEUE, WINDOW, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
        return batch.length > 0 ? batch : undefined;
      });
      const after = await leaseAll(transport);

      // Assert
      expect(countBy(held)).toEqual({ capped: 2, free: 4 });
      expect(countBy([...next, ...after])).toEqual({ capped: 1 });
    });

    it('holds maxInFlight across two instances on the same store (one pulled concurrently where the store admits one process)', async () => {
      // Arrange
      const settings = groupSettings();
      const first = await harness.create(settings);
      const second = harness.peer ? await harness.peer(first, settings) : first;
      await first.setGroupLimits(DOMAIN, 'capped', { maxInFlight: 3 });
      await publishAll(
        first,
        Array.from({ length: 12 }, (_, n) => makeItem({ group: 'capped', payload: { n } })),
      );

      // Act
      const held = await leaseAll(first, [first, second]);

      // Assert
      expect(countBy(held)).toEqual({ capped: 3 });
    });

    it('applies the domain default from the options, and a run-time limit over it', async () => {
      // Arrange
      const transport = await harness.create(groupSettings({ domains: { [DOMAIN]: { maxInFlightPerGroup: 1 } } }));
      await transport.setGroupLimits(DOMAIN, 'wide', { maxInFlight: 3 });
      await publishAll(transport, [
        ...Array.from({ length: 4 }, (_, n) => makeItem({ group: 'narrow', payload: { n } })),
        ...Array.from({ length: 4 }, (_, n) => makeItem({ group: 'wide', payload: { n } })),
      ]);

      // Act
      const held = await leaseAll(transport);
      const narrow = await groupState(transport, 'narrow');
      const wide = await groupState(transport, 'wide');

      // Assert
      expect(countBy(held)).toEqual({ narrow: 1, wide: 3 });
      expect(narrow).toMatchObject({ ready: 3, inFlight: 1, limits: { maxInFlight: 1 } });
      expect(narrow?.override).toBeUndefined();
      expect(wide).toMatchObject({ ready: 1, inFlight: 3, limits: { maxInFlight: 3 }, override: { maxInFlight: 3 } });
    });

    it('hands out a rate-limited group at its rate, within 10 %', async () => {
      // Arrange
      const rate = 20;
      const seconds = 3;
      const transport = await harness.create(groupSettings());
      await transport.setGroupLimits(DOMAIN, 'paced', { ratePerSecond: rate });
      await publishAll(
        transport,
        Array.from({ length: rate * seconds * 2 }, (_, n) => makeItem({ group: 'paced', payload: { n } })),
      );

      // Act: count what is handed out over `seconds`, from the first hand-out on
      let handedOut = 0;
      let startedAt: number | undefined;
      while (startedAt === undefined || performance.now() - startedAt < seconds * 1_000) {
        const batch = await transport.pull(QUEUE, WINDOW, { leaseMs: LONG_LEASE_MS, waitMs: 50 });
        if (batch.length > 0) startedAt ??= performance.now();
        handedOut += batch.length;
        for (const delivery of batch) await transport.ack(delivery);
      }

      // Assert
      expect(handedOut).toBeGreaterThanOrEqual(Math.floor(rate * seconds * 0.9));
      expect(handedOut).toBeLessThanOrEqual(Math.ceil(rate * seconds * 1.1));
    });

    it('lists groups by name with ready, in-flight and limits, paged, and keeps run-time limits for the fleet', async () => {
      // Arrange
      const settings = groupSettings();
      const transport = await harness.create(settings);
      await publishAll(transport, [makeItem({ group: 'alpha' }), makeItem({ group: 'alpha' }), makeItem({ group: 'beta' }), makeItem({ group: 'gamma' })]);
      await transport.setGroupLimits(DOMAIN, 'delta', { ratePerSecond: 5 });
      const [leased] = await transport.pull(QUEUE, 1, { leaseMs: LONG_LEASE_MS, waitMs: 2_000 });

      // Act
      const firstPage = await transport.listGroups(DOMAIN, { limit: 2 });
      const secondPage = await transport.listGroups(DOMAIN, { limit: 2, cursor: firstPage.nextCursor });
      const reopened = await harness.reopen(transport, settings);
      const afterReopen = await groupState(reopened, 'delta');
      await reopened.setGroupLimits(DOMAIN, 'delta', null);
      const cleared = await groupState(reopened, 'delta');

      // Assert
      const listed = [...firstPage.items, ...secondPage.items];
      expect(listed.map((state) => state.group)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
      expect(secondPage.nextCursor).toBeUndefined();
      const total = (group: string): number => {
        const state = listed.find((s) => s.group === group) as GroupState;
        return state.ready + state.inFlight;
      };
      expect({ alpha: total('alpha'), beta: total('beta'), gamma: total('gamma'), delta: total('delta') }).toEqual({ alpha: 2, beta: 1, gamma: 1, delta: 0 });
      expect(listed.find((s) => s.group === groupOf(leased))?.inFlight).toBeGreaterThanOrEqual(1);
      expect(afterReopen).toMatchObject({ limits: { ratePerSecond: 5 }, override: { ratePerSecond: 5 } });
      expect(cleared?.override).toBeUndefined();
    });

    it('gives a group back its items after a lapsed lease, with the cap still held', async () => {
      // Arrange
      const transport = await harness.create(groupSettings());
      await transport.setGroupLimits(DOMAIN, 'capped', { maxInFlight: 1 });
      await publishAll(transport, [makeItem({ group: 'capped', payload: { n: 0 } }), makeItem({ group: 'capped', payload: { n: 1 } })]);
      const [first] = await transport.pull(QUEUE, WINDOW, { leaseMs: 300, waitMs: 2_000 });

      // Act: the lease lapses unsettled; the same item comes back, and only it
      await letTimePass(600);
      const again = await eventually('the lapsed item again', async () => {
        const batch = await transport.pull(QUEUE, WINDOW, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
        return batch.length > 0 ? batch : undefined;
      });
      const more = await leaseAll(transport);

      // Assert
      expect(again.map((d) => d.id)).toEqual([first.id]);
      expect(more).toEqual([]);
    });
  });
}
