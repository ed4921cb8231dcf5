import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeItem } from '../../libs/kanban/src/codec/item-codec';
import { QueueFullError } from '../../libs/kanban/src/errors';
import type { QueueRef, TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { EVENTUALLY_MS, LONG_LEASE_MS, contractSettings, eventually, makeItem, publishAll } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
/** Long enough to see that nothing more comes. */
const QUIET_MS = 1_000;

function groupSettings(overrides: Partial<TransportSettings> = {}): TransportSettings {
  return contractSettings({ groups: { window: 5, metrics: false, domains: {} }, ...overrides });
}

/** Pulls without settling until nothing more comes for QUIET_MS. */
async function leaseAll(transport: NatsTransport, queue: QueueRef): Promise<TransportDelivery[]> {
  const held: TransportDelivery[] = [];
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_MS) {
    const batch = await transport.pull(queue, 10, { leaseMs: LONG_LEASE_MS, waitMs: 100 });
    if (batch.length > 0) quietSince = performance.now();
    held.push(...batch);
  }
  return held;
}

async function pullSome(transport: NatsTransport, queue: QueueRef, what: string): Promise<TransportDelivery[]> {
  return eventually(what, async () => {
    const batch = await transport.pull(queue, 10, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
    return batch.length > 0 ? batch : undefined;
  });
}

describe('NATS groups: slots, backlog and mover', () => {
  afterEach(() => harness.cleanup());

  it('adds the slot subjects in place to a work stream declared before groups existed, keeping its items', async () => {
    // Arrange: the stream as a kanban without groups declared it, holding one item
    const settings = groupSettings();
    const domain = testNamespace().domain('upgrade');
    const queue: QueueRef = { priority: 'normal', domain };
    const old = await harness.create(settings);
    const prefix = harness.prefixOf(old);
    await old.close();
    const nc = await harness.rawClient();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}_NORMAL_${domain}`, subjects: [`kanban.normal.${domain}`], retention: 'workqueue', storage: 'file', discard: 'new', duplicate_window: 120_000_000_000 });
    const before = makeItem({ domain, payload: { n: 'before' } });
    await jetstream(nc).publish(`kanban.normal.${domain}`, encodeItem(before));

    // Act
    const upgraded = await harness.sibling(old, settings);
    await upgraded.publish(makeItem({ domain, group: 'tenant', payload: { n: 'grouped' } }));
    const held = await leaseAll(upgraded, queue);

    // Assert
    const info = await jsm.streams.info(`${prefix}_NORMAL_${domain}`);
    expect(info.config.subjects).toEqual([`kanban.normal.${domain}`, `kanban.normal.${domain}.*.*`]);
    expect(held.map((delivery) => ('item' in delivery ? delivery.item.payload : undefined))).toEqual([{ n: 'before' }, { n: 'grouped' }]);
  });

  it('stores a grouped item on a slot subject and an ungrouped one on the queue subject', async () => {
    // Arrange
    const transport = await harness.create(groupSettings());
    const domain = testNamespace().domain('subjects');
    const nc = await harness.rawClient();
    const jsm = await jetstreamManager(nc);

    // Act
    await publishAll(transport, [makeItem({ domain, group: 'tenant' }), makeItem({ domain, group: 'tenant' }), makeItem({ domain })]);

    // Assert
    const info = await jsm.streams.info(`${harness.prefixOf(transport)}_NORMAL_${domain}`, { subjects_filter: '>' });
    expect(info.state.subjects).toEqual({ [`kanban.normal.${domain}`]: 1, [`kanban.normal.${domain}.tenant.0`]: 1, [`kanban.normal.${domain}.tenant.1`]: 1 });
  });

  it("lists items without a group as the default group '', with no limits", async () => {
    // Arrange
    const transport = await harness.create(groupSettings({ groups: { window: 5, metrics: false, domains: {}, maxInFlightPerGroup: 3 } }));
    const domain = testNamespace().domain('default');
    await publishAll(transport, [makeItem({ domain }), makeItem({ domain }), makeItem({ domain, group: 'tenant' })]);

    // Act
    const page = await transport.listGroups(domain, {});

    // Assert
    expect(page.items).toEqual([
      { group: '', ready: 0, inFlight: 2, limits: {} },
      { group: 'tenant', ready: 0, inFlight: 1, limits: { maxInFlight: 3 } },
    ]);
  });

  it('counts the backlog in maxQueueDepth and as ready in depth', async () => {
    // Arrange
    const transport = await harness.create(groupSettings({ maxQueueDepth: 4 }));
    const domain = testNamespace().domain('full');
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 1 });
    await publishAll(
      transport,
      Array.from({ length: 4 }, () => makeItem({ domain, group: 'tenant' })),
    );

    // Act
    const refused = await transport.publish(makeItem({ domain, group: 'tenant' })).catch((error: unknown) => error);
    const depth = (await transport.depth()).find((row) => row.domain === domain && row.priority === 'normal');

    // Assert
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(depth).toMatchObject({ ready: 4, inFlight: 0 });
  });

  it('lets items above a lowered maxInFlight drain, deleting none', async () => {
    // Arrange
    const transport = await harness.create(groupSettings());
    const domain = testNamespace().domain('shrink');
    const queue: QueueRef = { priority: 'normal', domain };
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 3 });
    await publishAll(
      transport,
      Array.from({ length: 5 }, (_, n) => makeItem({ domain, group: 'tenant', payload: { n } })),
    );
    const held = await leaseAll(transport, queue);

    // Act: the cap drops to 1 while 3 are leased; two acks leave one in flight, the third frees a slot
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 1 });
    await transport.ack(held[0]);
    await transport.ack(held[1]);
    const whileAbove = await leaseAll(transport, queue);
    await transport.ack(held[2]);
    const fourth = await pullSome(transport, queue, 'the fourth item');
    const whileCapped = await leaseAll(transport, queue);
    await transport.ack(fourth[0]);
    const fifth = await pullSome(transport, queue, 'the fifth item');

    // Assert
    expect(held).toHaveLength(3);
    expect(whileAbove).toEqual([]);
    expect(fourth).toHaveLength(1);
    expect(whileCapped).toEqual([]);
    expect(fifth).toHaveLength(1);
    expect(new Set([...held, ...fourth, ...fifth].map((delivery) => delivery.id)).size).toBe(5);
  });

  it('puts a grouped item back through its slots after a long retry delay, under its cap, with its attempts', async () => {
    // Arrange: a retry of 300 ms goes through the delay stream
    const transport = await harness.create(groupSettings(), { delayStreamMinMs: 100 });
    const domain = testNamespace().domain('delayed');
    const queue: QueueRef = { priority: 'normal', domain };
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 1 });
    const [first, second] = [makeItem({ domain, group: 'tenant', payload: { n: 0 } }), makeItem({ domain, group: 'tenant', payload: { n: 1 } })];
    await publishAll(transport, [first, second]);
    const [firstDelivery] = await pullSome(transport, queue, 'the first item');

    // Act: its retry frees the slot for the second; once due it waits for that slot
    await transport.retry(firstDelivery, 300);
    const [secondDelivery] = await pullSome(transport, queue, 'the second item');
    const whileSecondHeld = await leaseAll(transport, queue);
    await transport.ack(secondDelivery);
    const [again] = await pullSome(transport, queue, 'the retried item');

    // Assert
    expect([firstDelivery.id, secondDelivery.id]).toEqual([first.id, second.id]);
    expect(whileSecondHeld).toEqual([]);
    expect(again.id).toBe(first.id);
    expect('item' in again ? again.item.attempts : undefined).toBe(2);
  });

  it('moves the next backlog item into the slot an ack freed, with no pass of the leader', async () => {
    // Arrange: another instance holds the groups lease (renewed here), so only the ack can start the move
    const transport = await harness.create(groupSettings());
    const domain = testNamespace().domain('ackkick');
    const queue: QueueRef = { priority: 'normal', domain };
    const prefix = harness.prefixOf(transport);
    const nc = await harness.rawClient();
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const leaseSubject = `${prefix.toLowerCase()}.groups-leader`;
    await jsm.streams.add({ name: `${prefix}_GROUPS_LEADER`, subjects: [leaseSubject], max_msgs_per_subject: 1, max_age: 3_000_000_000, duplicate_window: 3_000_000_000 });
    let leaseSeq = (await js.publish(leaseSubject, 'another-instance', { expect: { lastSubjectSequence: 0 } })).seq;
    const renewal = setInterval(() => {
      void js
        .publish(leaseSubject, 'another-instance', { expect: { lastSubjectSequence: leaseSeq } })
        .then((ack) => (leaseSeq = ack.seq))
        .catch(() => undefined);
    }, 500);
    try {
      await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 1 });
      const items = Array.from({ length: 3 }, () => makeItem({ domain, group: 'tenant' }));
      await publishAll(transport, items);
      const [first] = await pullSome(transport, queue, 'the first item');

      // Act
      await transport.ack(first);
      const [second] = await pullSome(transport, queue, 'the second item');

      // Assert
      expect([first.id, second.id]).toEqual([items[0].id, items[1].id]);
    } finally {
      clearInterval(renewal);
    }
  });

  it('fills all free slots of a group in one move, sending the next publish before the previous item is deleted', async () => {
    // Arrange: 50 items backlogged behind a cap of 5, and a watch on the slot publishes and the backlog deletes
    const transport = await harness.create(groupSettings());
    const domain = testNamespace().domain('pipelined');
    const prefix = harness.prefixOf(transport);
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 5 });
    await publishAll(
      transport,
      Array.from({ length: 55 }, () => makeItem({ domain, group: 'tenant' })),
    );
    const nc = await harness.rawClient();
    let published = 0;
    let deleted = 0;
    let mostUndeleted = 0;
    const slotWatch = nc.subscribe(`kanban.normal.${domain}.tenant.*`, {
      callback: () => {
        published++;
        mostUndeleted = Math.max(mostUndeleted, published - deleted);
      },
    });
    const deleteWatch = nc.subscribe(`$JS.API.STREAM.MSG.DELETE.${prefix}_NORMAL_${domain}_BACKLOG`, {
      callback: () => {
        deleted++;
      },
    });
    await nc.flush();

    // Act: the raised cap frees 50 slots at once
    await transport.setGroupLimits(domain, 'tenant', { maxInFlight: 55 });
    const jsm = await jetstreamManager(nc);
    const moved = await eventually('every item moved', async () => {
      const [work, backlog] = await Promise.all([jsm.streams.info(`${prefix}_NORMAL_${domain}`, { subjects_filter: '>' }), jsm.streams.info(`${prefix}_NORMAL_${domain}_BACKLOG`)]);
      return backlog.state.messages === 0 && deleted === 50 ? work : undefined;
    });
    slotWatch.unsubscribe();
    deleteWatch.unsubscribe();

    // Assert: every item stored once in its own slot, and the moves overlapped
    expect(moved.state.messages).toBe(55);
    expect(Object.keys(moved.state.subjects ?? {})).toHaveLength(55);
    expect(published).toBe(50);
    expect(mostUndeleted).toBeGreaterThan(1);
  });

  it(
    "moves a backlog item no settle announced (the leader's pass)",
    async () => {
      // Arrange: a group backlogged behind its cap, so the backlog stream exists
      const transport = await harness.create(groupSettings());
      const domain = testNamespace().domain('pass');
      const queue: QueueRef = { priority: 'normal', domain };
      await transport.setGroupLimits(domain, 'busy', { maxInFlight: 1 });
      await publishAll(transport, [makeItem({ domain, group: 'busy' }), makeItem({ domain, group: 'busy' })]);
      const [busy] = await pullSome(transport, queue, 'the busy group item');
      const nc = await harness.rawClient();
      const stranded = makeItem({ domain, group: 'quiet' });

      // Act: an item lands in the backlog of a group with free slots, as a publish racing an ack would leave it
      await jetstream(nc).publish(`${harness.prefixOf(transport).toLowerCase()}.backlog.normal.${domain}.quiet`, encodeItem(stranded));
      const moved = await pullSome(transport, queue, 'the stranded item');

      // Assert
      expect(busy.id).not.toBe(stranded.id);
      expect(moved.map((delivery) => delivery.id)).toEqual([stranded.id]);
    },
    EVENTUALLY_MS * 2,
  );
});
