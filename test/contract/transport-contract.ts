import { performance } from 'node:perf_hooks';
import { replayIdempotencyKey, type FleetInstance, type KanbanTransport, type TransportSettings } from '../../libs/kanban/src/transport';
import type { ScheduleDefinition } from '../../libs/kanban/src/scheduler/schedule-coordination.interface';
import { isMalformed, type DeadLetter, type Delivery, type MalformedDelivery, type Priority } from '../../libs/kanban/src/interfaces';
import { DeadLetterNotFoundError, LeaseExpiredError, QueueFullError } from '../../libs/kanban/src/errors';
import { Registry } from 'prom-client';
import { KanbanQueue } from '../../libs/kanban/src/queue';
import { KanbanMetrics } from '../../libs/kanban/src/metrics';
import { KanbanEvents } from '../../libs/kanban/src/events';
import { SettleRelay } from '../../libs/kanban/src/relay';
import { resolveKanbanOptions } from '../../libs/kanban/src/kanban-options';
import { LONG_LEASE_MS, SHORT_LEASE_MS, activeBroker, contractSettings, depthOf, eventually, expectDepth, letTimePass, makeItem, publishAll, pullExactly, storedFields } from './contract-helpers';

/** What a transport's spec file provides so the shared contract suite can run against it. */
export interface ContractHarness {
  /** Creates a connected transport on a fresh, empty namespace (unique file / stream prefix / vhost-or-queue prefix per call). */
  create(settings: TransportSettings): Promise<KanbanTransport>;
  /**
   * Another connected transport on the same store, as a second instance (process) would open it;
   * `transport` stays open. Absent for a store one process holds at a time (embedded).
   */
  peer?(transport: KanbanTransport, settings: TransportSettings): Promise<KanbanTransport>;
  /** Closes `transport` and returns a new connected one on the same store (durability checks). */
  reopen(transport: KanbanTransport, settings: TransportSettings): Promise<KanbanTransport>;
  /** Writes raw bytes to the (priority, domain) queue the way a foreign publisher would. */
  injectRaw(transport: KanbanTransport, priority: Priority, domain: string, bytes: Buffer): Promise<void>;
  /** Releases everything created. Runs after every test, so it must tolerate being called again. */
  cleanup(): Promise<void>;
}

const DOMAIN = 'orders';
const SCHEDULE_LEASE_MS = 2_000;
/** Long enough that a record does not lapse during the test, short enough for a lease that is taken at once. */
const FLEET_SETTINGS = { memberTtlMs: 60_000, leaseMs: 2_000 };
const QUEUE = { domain: DOMAIN, priority: 'normal' } as const;

const PULL_SIZE = contractSettings().workerPullSize;

/** Publishes `count` items and dead-letters them one by one; their ids in the order they were dead-lettered. */
async function deadLetterMany(transport: KanbanTransport, count: number): Promise<string[]> {
  await publishAll(
    transport,
    Array.from({ length: count }, (_, n) => makeItem({ payload: { n } })),
  );
  const ids: string[] = [];
  // In pulls of a worker's size: a transport may hold no more than a few pulls' worth per queue.
  while (ids.length < count) {
    for (const delivery of await pullExactly(transport, QUEUE, Math.min(PULL_SIZE, count - ids.length))) {
      await transport.deadLetter(delivery, 'nack', 'boom');
      ids.push(delivery.id);
    }
  }
  return ids;
}

/** A second instance where the store admits one; else the same transport, called concurrently. */
function otherInstance(harness: ContractHarness, transport: KanbanTransport, settings: TransportSettings): Promise<KanbanTransport> {
  return harness.peer ? harness.peer(transport, settings) : Promise.resolve(transport);
}

/** Every listed id, page by page of `limit`, following the cursor to the end. */
async function listAllIds(transport: KanbanTransport, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await transport.listDeadLetters({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((d) => d.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

function asDelivery(delivery: Delivery | MalformedDelivery): Delivery {
  if (isMalformed(delivery)) throw new Error(`Expected a decoded delivery, got malformed ${delivery.id}: ${delivery.error}`);
  return delivery;
}

/** The queue a library user gets, over `transport`, with its metrics in a registry of its own. */
function queueOver(transport: KanbanTransport, maxAttempts: number): { queue: KanbanQueue; metrics: KanbanMetrics } {
  const metrics = new KanbanMetrics(new Registry());
  return { queue: new KanbanQueue(transport, resolveKanbanOptions({ maxAttempts, retryBackoffMs: [100] }), metrics, new KanbanEvents(), new SettleRelay(transport)), metrics };
}

/**
 * The one suite every transport runs (embedded, NATS, RabbitMQ, failover). Each case starts from an
 * empty namespace and checks state through the public contract only. Receipts and dead letters
 * must name `currentStatus.active` as their broker; depth rows of one queue are summed, so a
 * composite transport may list one per broker. Anything that takes time (redelivery, a delay,
 * depth catching up) is awaited by bounded polling, never by a fixed sleep.
 */
export function describeTransportContract(name: string, harness: ContractHarness): void {
  describe(`${name} transport contract`, () => {
    afterEach(async () => {
      await harness.cleanup();
    });

    describe('publish, pull and ack', () => {
      it('leaves the queue empty after publish → pull → ack', async () => {
        const transport = await harness.create(contractSettings());
        const item = makeItem({ payload: { order: 42 } });

        const receipt = await transport.publish(item);
        const [delivery] = await pullExactly(transport, QUEUE, 1);
        const pulledAt = Date.now();
        await transport.ack(delivery);

        expect(receipt).toEqual({ id: item.id, broker: activeBroker(transport), duplicate: false });
        expect(asDelivery(delivery).item).toEqual({ ...item, attempts: 1 });
        expect(asDelivery(delivery).leaseExpiresAt).toBeGreaterThan(pulledAt);
        expect(asDelivery(delivery).leaseExpiresAt).toBeLessThanOrEqual(pulledAt + LONG_LEASE_MS);
        expect(delivery).toMatchObject({ id: item.id, domain: DOMAIN, priority: 'normal' });
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
        expect(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 })).toEqual([]);
      });

      it('reports itself up once connected and closed after close', async () => {
        const transport = await harness.create(contractSettings());
        const upState = transport.currentStatus.state;

        await transport.close();
        await transport.close();

        expect(upState).toBe('up');
        expect(transport.currentStatus.state).toBe('closed');
      });

      it('accepts ensureQueue more than once and serves the queue it declared', async () => {
        const transport = await harness.create(contractSettings());
        const item = makeItem({ priority: 'low' });

        await transport.ensureQueue('low', DOMAIN);
        await transport.ensureQueue('low', DOMAIN);
        await transport.publish(item);

        const [delivery] = await pullExactly(transport, { domain: DOMAIN, priority: 'low' }, 1);
        expect(delivery.id).toBe(item.id);
      });

      it('hands out at most `max` items per pull and every item exactly once', async () => {
        const transport = await harness.create(contractSettings());
        const items = Array.from({ length: 5 }, (_, n) => makeItem({ payload: { n } }));
        await publishAll(transport, items);

        const first = await transport.pull(QUEUE, 3, { leaseMs: LONG_LEASE_MS, waitMs: 1_000 });
        const rest = await pullExactly(transport, QUEUE, 5 - first.length);

        expect(first.length).toBeGreaterThanOrEqual(1);
        expect(first.length).toBeLessThanOrEqual(3);
        expect([...first, ...rest].map((d) => d.id).sort()).toEqual(items.map((i) => i.id).sort());
      });

      it('never gives the same item to two concurrent pullers', async () => {
        const transport = await harness.create(contractSettings());
        const items = Array.from({ length: 200 }, (_, n) => makeItem({ payload: { n } }));
        await Promise.all(items.map((item) => transport.publish(item)));
        const seen: string[] = [];
        const puller = async (): Promise<void> => {
          const deadline = performance.now() + 20_000;
          while (seen.length < items.length && performance.now() < deadline) {
            const batch = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 100 });
            seen.push(...batch.map((d) => d.id));
            await Promise.all(batch.map((d) => transport.ack(d)));
          }
        };

        await Promise.all([puller(), puller()]);

        expect(seen).toHaveLength(items.length);
        expect(new Set(seen).size).toBe(items.length);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it('delivers a queue first in, first out', async () => {
        const transport = await harness.create(contractSettings());
        const items = Array.from({ length: 10 }, (_, n) => makeItem({ payload: { n } }));
        await publishAll(transport, items);

        const deliveries = await pullExactly(transport, QUEUE, 10);

        expect(deliveries.map((d) => d.id)).toEqual(items.map((i) => i.id));
      });

      it('serves a domain pull strictly high → normal → low', async () => {
        const transport = await harness.create(contractSettings());
        const order: Priority[] = ['low', 'normal', 'high', 'low', 'normal', 'high'];
        await publishAll(
          transport,
          order.map((priority) => makeItem({ priority })),
        );

        const firstOnly = await pullExactly(transport, { domain: DOMAIN }, 1);
        const remaining = await pullExactly(transport, { domain: DOMAIN }, 5);

        expect(firstOnly[0].priority).toBe('high');
        expect(remaining.map((d) => d.priority)).toEqual(['high', 'normal', 'normal', 'low', 'low']);
      });

      it('round-trips payloads and headers exactly', async () => {
        const transport = await harness.create(contractSettings());
        const payloads: unknown[] = [{ nested: { list: [1, 'two', { three: [null, true, false] }], empty: {} }, n: -1.5e-7 }, 'héllo ✓ 日本語 🎉 \u0000 \n "quoted"', null, [], 0, ''];
        const items = payloads.map((payload, n) => makeItem({ payload, headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, seq: String(n) } }));
        await publishAll(transport, items);

        const deliveries = (await pullExactly(transport, QUEUE, items.length)).map(asDelivery);

        expect(deliveries.map((d) => storedFields(d.item))).toEqual(items.map(storedFields));
      });
    });

    describe('leases', () => {
      it('redelivers an item whose lease lapsed, with attempts + 1 and a new lease', async () => {
        const transport = await harness.create(contractSettings());
        const item = makeItem();
        await transport.publish(item);
        const [first] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });
        const duringLease = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });

        const [second] = await pullExactly(transport, QUEUE, 1);

        expect(duringLease).toEqual([]);
        expect(second.id).toBe(item.id);
        expect(asDelivery(first).item.attempts).toBe(1);
        expect(asDelivery(second).item.attempts).toBe(2);
        expect(second.lease).not.toBe(first.lease);
      });

      it('refuses every settle with a stale lease and leaves the newer delivery untouched', async () => {
        const transport = await harness.create(contractSettings());
        await transport.publish(makeItem());
        const [stale] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });
        const [current] = await pullExactly(transport, QUEUE, 1);

        await expect(transport.ack(stale)).rejects.toBeInstanceOf(LeaseExpiredError);
        await expect(transport.retry(stale, 0)).rejects.toBeInstanceOf(LeaseExpiredError);
        await expect(transport.extendLease(stale, LONG_LEASE_MS)).rejects.toBeInstanceOf(LeaseExpiredError);
        await expect(transport.deadLetter(stale, 'nack', 'stale')).rejects.toBeInstanceOf(LeaseExpiredError);

        expect(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 })).toEqual([]);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 1 });
        expect(await transport.listDeadLetters({})).toEqual({ items: [] });
        await transport.ack(current);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it("refuses a lease presented with another item's id, and leaves both items leased", async () => {
        const transport = await harness.create(contractSettings());
        await transport.publish(makeItem());
        await transport.publish(makeItem());
        const [first, second] = await pullExactly(transport, QUEUE, 2);
        const misdirected = { ...first, id: second.id };

        const outcomes = await Promise.all(
          [transport.ack(misdirected), transport.retry(misdirected, 0), transport.extendLease(misdirected, LONG_LEASE_MS), transport.deadLetter(misdirected, 'nack', 'misdirected')].map((settle) =>
            settle.then(
              () => 'settled',
              (error: unknown) => (error as Error).name,
            ),
          ),
        );

        expect(outcomes).toEqual(['LeaseExpiredError', 'LeaseExpiredError', 'LeaseExpiredError', 'LeaseExpiredError']);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 2 });
        expect(await transport.listDeadLetters({})).toEqual({ items: [] });
        await transport.ack(first);
        await transport.ack(second);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it('refuses a settle once the lease time is up, even before any timer could run (a process resumed after SIGSTOP)', async () => {
        const transport = await harness.create(contractSettings());
        await transport.publish(makeItem());
        const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });

        // Hold the event loop past the lease, as a frozen process does: no timer or socket callback runs meanwhile.
        const frozenUntil = performance.now() + SHORT_LEASE_MS + 100;
        while (performance.now() < frozenUntil);
        const settling = transport.ack(delivery);

        await expect(settling).rejects.toBeInstanceOf(LeaseExpiredError);
        const [again] = await pullExactly(transport, QUEUE, 1, { waitMs: 5_000 });
        expect(again.id).toBe(delivery.id);
        await transport.ack(again);
      });

      it('keeps an item from being redelivered past its original lease once extended', async () => {
        const transport = await harness.create(contractSettings());
        await transport.publish(makeItem());
        const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });

        await transport.extendLease(delivery, LONG_LEASE_MS);
        await letTimePass(SHORT_LEASE_MS * 2);

        expect(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 })).toEqual([]);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 1 });
        await transport.ack(delivery);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it('returns a retried item only after its delay, as the next attempt', async () => {
        const transport = await harness.create(contractSettings());
        const delayMs = 600;
        await transport.publish(makeItem());
        const [first] = await pullExactly(transport, QUEUE, 1);
        const retriedAt = performance.now();

        await transport.retry(first, delayMs);
        const beforeDelay = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
        const [second] = await pullExactly(transport, QUEUE, 1, { waitMs: 5_000 });
        const elapsed = performance.now() - retriedAt;

        expect(beforeDelay).toEqual([]);
        expect(elapsed).toBeGreaterThanOrEqual(delayMs - 25);
        expect(second.id).toBe(first.id);
        expect(asDelivery(second).item.attempts).toBe(2);
        await expect(transport.ack(first)).rejects.toBeInstanceOf(LeaseExpiredError);
      });
    });

    describe('dead letters', () => {
      it('keeps the original item with reason, error, attempts and time', async () => {
        const transport = await harness.create(contractSettings());
        const item = makeItem({ payload: { order: 7, lines: ['a', 'b'] }, idempotencyKey: 'order-7', headers: { tenant: 'acme' } });
        await transport.publish(item);
        const [delivery] = await pullExactly(transport, QUEUE, 1);
        const before = Date.now();

        const deadLetter = await transport.deadLetter(delivery, 'nack', 'customer cancelled');

        expect(deadLetter).toMatchObject({
          id: item.id,
          priority: 'normal',
          domain: DOMAIN,
          reason: 'nack',
          error: 'customer cancelled',
          attempts: 1,
          broker: activeBroker(transport),
        });
        expect(storedFields(deadLetter.item!)).toEqual(storedFields(item));
        expect(deadLetter.raw).toBeUndefined();
        expect(deadLetter.deadLetteredAt).toBeGreaterThanOrEqual(before);
        expect(deadLetter.deadLetteredAt).toBeLessThanOrEqual(Date.now());
        expect(await transport.getDeadLetter(item.id)).toEqual(deadLetter);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
        await expect(transport.ack(delivery)).rejects.toBeInstanceOf(LeaseExpiredError);
      });

      it('lists oldest first, filters by domain and reason, pages by limit and cursor, and deletes', async () => {
        const transport = await harness.create(contractSettings());
        const specs = [
          { domain: 'orders', reason: 'nack' },
          { domain: 'billing', reason: 'max_attempts' },
          { domain: 'orders', reason: 'max_attempts' },
        ] as const;
        const ids: string[] = [];
        for (const spec of specs) {
          const item = makeItem({ domain: spec.domain });
          await transport.publish(item);
          const [delivery] = await pullExactly(transport, { domain: spec.domain }, 1);
          await transport.deadLetter(delivery, spec.reason, 'boom');
          ids.push(item.id);
        }

        const all = await transport.listDeadLetters({});
        const orders = await transport.listDeadLetters({ domain: 'orders' });
        const maxAttempts = await transport.listDeadLetters({ reason: 'max_attempts' });
        const both = await transport.listDeadLetters({ domain: 'orders', reason: 'max_attempts' });
        const oldest = await transport.listDeadLetters({ limit: 1 });
        const next = await transport.listDeadLetters({ limit: 1, cursor: oldest.nextCursor });
        const lastTwo = await transport.listDeadLetters({ limit: 2, cursor: oldest.nextCursor });
        await transport.deleteDeadLetter(ids[0]);

        expect(all.items.map((d) => d.id)).toEqual([ids[0], ids[1], ids[2]]);
        expect(all.nextCursor).toBeUndefined();
        expect(orders.items.map((d) => d.id)).toEqual([ids[0], ids[2]]);
        expect(maxAttempts.items.map((d) => d.id)).toEqual([ids[1], ids[2]]);
        expect(both.items.map((d) => d.id)).toEqual([ids[2]]);
        expect(oldest.items.map((d) => d.id)).toEqual([ids[0]]);
        expect(oldest.nextCursor).toEqual(expect.any(String));
        expect(next.items.map((d) => d.id)).toEqual([ids[1]]);
        expect(lastTwo.items.map((d) => d.id)).toEqual([ids[1], ids[2]]);
        expect((await transport.listDeadLetters({})).items.map((d) => d.id)).toEqual([ids[1], ids[2]]);
        await expect(transport.getDeadLetter(ids[0])).rejects.toBeInstanceOf(DeadLetterNotFoundError);
        await expect(transport.deleteDeadLetter(ids[0])).rejects.toBeInstanceOf(DeadLetterNotFoundError);
      });

      it('lists every record right after a lookup of an id it does not hold', async () => {
        const transport = await harness.create(contractSettings());
        const ids: string[] = [];
        for (let i = 0; i < 30; i++) {
          const item = makeItem();
          await transport.publish(item);
          ids.push(item.id);
        }
        for (const delivery of await pullExactly(transport, QUEUE, ids.length)) await transport.deadLetter(delivery, 'nack', 'boom');

        // Repeated: a reader that hands records back late shows as a short listing in some round.
        const listedPerRound: number[] = [];
        for (let round = 0; round < 20; round++) {
          await expect(transport.getDeadLetter('not-a-dead-letter')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
          const listed = (await transport.listDeadLetters({})).items;
          listedPerRound.push(listed.filter((d) => ids.includes(d.id)).length);
        }

        expect(listedPerRound).toEqual(listedPerRound.map(() => ids.length));
      });

      it('dead-letters deliveries unsettled for longer than the stall limit as stalled, and no fresher one', async () => {
        const transport = await harness.create(contractSettings());
        const stalledAfterMs = 300;
        const old = makeItem({ payload: 'old' });
        const fresh = makeItem({ payload: 'fresh' });
        await transport.publish(old);
        const [oldDelivery] = await pullExactly(transport, QUEUE, 1);
        await transport.extendLease(oldDelivery, LONG_LEASE_MS);
        await letTimePass(stalledAfterMs * 2);
        await transport.publish(fresh);
        const [freshDelivery] = await pullExactly(transport, QUEUE, 1);

        const moved = await transport.sweepStalled(stalledAfterMs);

        expect(moved.map((d) => [d.id, d.reason, d.attempts])).toEqual([[old.id, 'stalled', 1]]);
        expect((await transport.getDeadLetter(old.id)).reason).toBe('stalled');
        await expect(transport.ack(oldDelivery)).rejects.toBeInstanceOf(LeaseExpiredError);
        await transport.ack(freshDelivery);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it('sweeps an item whose lease lapsed on its last attempt as stalled', async () => {
        const transport = await harness.create(contractSettings({ maxAttempts: 1 }));
        const item = makeItem();
        await transport.publish(item);
        await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });
        await letTimePass(SHORT_LEASE_MS * 2);

        const moved = await transport.sweepStalled(LONG_LEASE_MS);

        expect(moved.map((d) => [d.id, d.reason, d.attempts])).toEqual([[item.id, 'stalled', 1]]);
        expect(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 })).toEqual([]);
      });

      it('never redelivers an item whose lease lapsed on its last attempt', async () => {
        const transport = await harness.create(contractSettings({ maxAttempts: 1 }));
        const item = makeItem();
        await transport.publish(item);
        await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });
        await letTimePass(SHORT_LEASE_MS * 2);

        const afterLapse = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: SHORT_LEASE_MS });
        await transport.sweepStalled(LONG_LEASE_MS);

        expect(afterLapse).toEqual([]);
        expect((await transport.getDeadLetter(item.id)).reason).toBe('stalled');
      });
    });

    describe('dead letters at any count, from several instances', () => {
      it('pages hundreds of letters by cursor, never repeating or skipping one, while another instance (or caller) deletes some', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const peer = await otherInstance(harness, transport, settings);
        const ids = await deadLetterMany(transport, 300);
        const doomed = new Set(ids.filter((_, n) => n % 3 === 1));

        const [listed] = await Promise.all([
          listAllIds(transport, 7),
          (async () => {
            for (const id of doomed) await peer.deleteDeadLetter(id);
          })(),
        ]);

        expect(new Set(listed).size).toBe(listed.length);
        expect(listed.filter((id) => !doomed.has(id))).toEqual(ids.filter((id) => !doomed.has(id)));
        expect(listed.filter((id) => doomed.has(id))).toEqual(ids.filter((id) => doomed.has(id) && listed.includes(id)));
        expect(await listAllIds(transport, 50)).toEqual(ids.filter((id) => !doomed.has(id)));
        expect(await listAllIds(peer, 50)).toEqual(ids.filter((id) => !doomed.has(id)));
      });

      it('lets two instances (or callers) get, list and purge the same letters at once', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const peer = await otherInstance(harness, transport, settings);
        const ids = await deadLetterMany(transport, 40);

        const fetched = await Promise.all(ids.slice(0, 5).map((id) => peer.getDeadLetter(id)));
        const outcomes = await Promise.allSettled(ids.flatMap((id, n) => (n % 2 === 0 ? [transport.deleteDeadLetter(id), peer.deleteDeadLetter(id)] : [peer.deleteDeadLetter(id)])));
        const [mine, theirs] = await Promise.all([listAllIds(transport, 10), listAllIds(peer, 10)]);

        expect(fetched.map((d) => d.id)).toEqual(ids.slice(0, 5));
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(DeadLetterNotFoundError);
        }
        expect(mine).toEqual([]);
        expect(theirs).toEqual([]);
        await expect(transport.getDeadLetter(ids[1])).rejects.toBeInstanceOf(DeadLetterNotFoundError);
        await expect(peer.getDeadLetter(ids[0])).rejects.toBeInstanceOf(DeadLetterNotFoundError);
      });

      it('publishes one item when two instances (or callers) replay the same letter at once', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const peer = await otherInstance(harness, transport, settings);
        const ids = await deadLetterMany(transport, 5);
        const rebuild = async (letter: DeadLetter) => makeItem({ payload: letter.item?.payload, idempotencyKey: replayIdempotencyKey(letter.id) });

        const outcomes = await Promise.all(ids.map((id) => Promise.allSettled([transport.replayDeadLetter(id, rebuild), peer.replayDeadLetter(id, rebuild)])));

        for (const pair of outcomes) {
          const receipts = pair.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.id] : []));
          const refusals = pair.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
          expect(receipts.length).toBeGreaterThanOrEqual(1);
          expect(new Set(receipts).size).toBe(1);
          for (const refusal of refusals) expect(refusal).toBeInstanceOf(DeadLetterNotFoundError);
        }
        await expectDepth(transport, 'normal', DOMAIN, { ready: ids.length, inFlight: 0 });
        expect(await listAllIds(peer, 10)).toEqual([]);
      });
    });

    describe('malformed messages', () => {
      it('hands undecodable bytes out as malformed, never throws, and still delivers the good item behind them', async () => {
        const transport = await harness.create(contractSettings());
        const notJson = Buffer.from('{"id": "x", truncated');
        const notUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
        const good = makeItem({ payload: 'good' });
        await harness.injectRaw(transport, 'normal', DOMAIN, notJson);
        await harness.injectRaw(transport, 'normal', DOMAIN, notUtf8);
        await transport.publish(good);

        const deliveries = await pullExactly(transport, QUEUE, 3);

        const malformed = deliveries.filter(isMalformed);
        const decoded = deliveries.filter((d): d is Delivery => !isMalformed(d));
        expect(malformed.map((d) => d.raw).sort()).toEqual([notJson.toString('base64'), notUtf8.toString('base64')].sort());
        for (const delivery of malformed) {
          expect(delivery).toMatchObject({ domain: DOMAIN, priority: 'normal', attempts: 1 });
          expect(delivery.error.length).toBeGreaterThan(0);
        }
        expect(decoded.map((d) => d.id)).toEqual([good.id]);
      });

      it('dead-letters a malformed message as malformed with its raw bytes', async () => {
        const transport = await harness.create(contractSettings());
        const bytes = Buffer.from('garbage \u0001');
        await harness.injectRaw(transport, 'high', DOMAIN, bytes);
        const [delivery] = await pullExactly(transport, { domain: DOMAIN }, 1);
        if (!isMalformed(delivery)) throw new Error('expected a malformed delivery');

        const deadLetter = await transport.deadLetter(delivery, 'malformed', delivery.error);

        expect(deadLetter).toMatchObject({ id: delivery.id, priority: 'high', domain: DOMAIN, reason: 'malformed', raw: bytes.toString('base64'), attempts: 1 });
        expect(deadLetter.item).toBeUndefined();
        expect(await transport.getDeadLetter(delivery.id)).toEqual(deadLetter);
        await expectDepth(transport, 'high', DOMAIN, { ready: 0, inFlight: 0 });
      });
    });

    describe('depth, dedup and limits', () => {
      it('counts ready and in-flight items per (priority, domain)', async () => {
        const transport = await harness.create(contractSettings());
        await publishAll(transport, [makeItem(), makeItem(), makeItem(), makeItem({ priority: 'high' })]);

        await pullExactly(transport, QUEUE, 1);

        await expectDepth(transport, 'normal', DOMAIN, { ready: 2, inFlight: 1 });
        await expectDepth(transport, 'high', DOMAIN, { ready: 1, inFlight: 0 });
      });

      it('folds a publish with a known idempotencyKey into the first item', async () => {
        const transport = await harness.create(contractSettings());
        const first = makeItem({ idempotencyKey: 'invoice-1', payload: 1 });
        const again = makeItem({ idempotencyKey: 'invoice-1', payload: 2 });
        const other = makeItem({ domain: 'billing', idempotencyKey: 'invoice-1', payload: 3 });

        const firstReceipt = await transport.publish(first);
        const againReceipt = await transport.publish(again);
        const otherReceipt = await transport.publish(other);

        const broker = activeBroker(transport);
        expect(firstReceipt).toEqual({ id: first.id, broker, duplicate: false });
        expect(againReceipt).toEqual({ id: first.id, broker, duplicate: true });
        expect(otherReceipt).toEqual({ id: other.id, broker, duplicate: false });
        const deliveries = (await pullExactly(transport, QUEUE, 1)).map(asDelivery);
        expect(deliveries.map((d) => d.item.payload)).toEqual([1]);
        expect(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 300 })).toEqual([]);
      });

      it('refuses publishes at maxQueueDepth and accepts them again once an item is acked', async () => {
        const transport = await harness.create(contractSettings({ maxQueueDepth: 3 }));
        await publishAll(transport, [makeItem(), makeItem(), makeItem()]);

        const overflow = transport.publish(makeItem());
        const otherQueue = await transport.publish(makeItem({ priority: 'high' }));

        await expect(overflow).rejects.toBeInstanceOf(QueueFullError);
        expect(otherQueue.duplicate).toBe(false);
        const [delivery] = await pullExactly(transport, QUEUE, 1);
        await transport.ack(delivery);
        const accepted = await eventually('a publish accepted after the ack', async () => {
          try {
            return await transport.publish(makeItem());
          } catch (error) {
            if (error instanceof QueueFullError) return undefined;
            throw error;
          }
        });
        expect(accepted.duplicate).toBe(false);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 3, inFlight: 0 });
      });
    });

    describe('waiting pulls', () => {
      it('returns as soon as an item is published instead of waiting out waitMs', async () => {
        const transport = await harness.create(contractSettings());
        const waitMs = 10_000;
        const item = makeItem();
        const started = performance.now();
        const pulling = transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs });

        await letTimePass(100);
        await transport.publish(item);
        const deliveries = await pulling;

        expect(deliveries.map((d) => d.id)).toEqual([item.id]);
        expect(performance.now() - started).toBeLessThan(waitMs / 2);
      });

      it('returns nothing after waitMs when the queue stays empty', async () => {
        const transport = await harness.create(contractSettings());
        const waitMs = 400;
        const started = performance.now();

        const deliveries = await transport.pull({ domain: DOMAIN }, 10, { leaseMs: LONG_LEASE_MS, waitMs });

        expect(deliveries).toEqual([]);
        expect(performance.now() - started).toBeGreaterThanOrEqual(waitMs - 25);
      });

      it('ends a waiting pull early when its signal aborts', async () => {
        const transport = await harness.create(contractSettings());
        const controller = new AbortController();
        const started = performance.now();
        const pulling = transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 10_000, signal: controller.signal });

        await letTimePass(100);
        controller.abort();

        expect(await pulling).toEqual([]);
        expect(performance.now() - started).toBeLessThan(5_000);
      });

      it('ends a waiting pull with nothing when the transport closes', async () => {
        const transport = await harness.create(contractSettings());
        const started = performance.now();
        const pulling = transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 10_000 });

        await letTimePass(100);
        await transport.close();

        expect(await pulling).toEqual([]);
        expect(performance.now() - started).toBeLessThan(5_000);
      });
    });

    describe('attempts, extensions and the delivering broker', () => {
      it('reports the attempt number of the current delivery and refuses it for a stale lease', async () => {
        const transport = await harness.create(contractSettings());
        await transport.publish(makeItem());
        const [first] = await pullExactly(transport, QUEUE, 1);
        const firstAttempts = await transport.deliveryAttempts(first);
        await transport.retry(first, 0);
        const [second] = await pullExactly(transport, QUEUE, 1);

        const secondAttempts = await transport.deliveryAttempts(second);

        expect(firstAttempts).toBe(1);
        expect(secondAttempts).toBe(2);
        await expect(transport.deliveryAttempts(first)).rejects.toBeInstanceOf(LeaseExpiredError);
        await transport.ack(second);
      });

      it('answers an extension with the lease it granted, never more than was asked for', async () => {
        const transport = await harness.create(contractSettings());
        const askedMs = 5_000;
        await transport.publish(makeItem());
        const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });

        const grantedMs = await transport.extendLease(delivery, askedMs);

        expect(grantedMs).toBeGreaterThan(SHORT_LEASE_MS);
        expect(grantedMs).toBeLessThanOrEqual(askedMs);
        await transport.ack(delivery);
      });

      it('names the broker that delivered an item', async () => {
        const transport = await harness.create(contractSettings());
        const receipt = await transport.publish(makeItem());
        const [delivery] = await pullExactly(transport, QUEUE, 1);

        const broker = transport.brokerOf(delivery);

        expect(broker).toBe(receipt.broker);
        await transport.ack(delivery);
      });
    });

    describe("the queue's retry rule", () => {
      const pullOne = async (queue: KanbanQueue, what: string): Promise<Delivery> => {
        const [delivery] = await eventually(what, async () => {
          const pulled = await queue.pull({ ...QUEUE, max: 1, waitMs: 200 });
          return pulled.length > 0 ? pulled : undefined;
        });
        return delivery;
      };

      it('dead-letters a retried item as max_attempts with the last error after exactly maxAttempts deliveries', async () => {
        const transport = await harness.create(contractSettings({ maxAttempts: 3 }));
        const { queue, metrics } = queueOver(transport, 3);
        const { id } = await queue.publish({ priority: 'normal', domain: DOMAIN, payload: { order: 9 }, deadlineMs: 3_600_000 });
        const attempts: number[] = [];
        const outcomes: string[] = [];

        for (let n = 1; n <= 3; n++) {
          const delivery = await pullOne(queue, `delivery ${n}`);
          attempts.push(delivery.item.attempts);
          outcomes.push((await queue.retry(delivery.id, DOMAIN, delivery.lease, 0, `gateway timeout ${n}`)).status);
        }
        const afterLast = await queue.pull({ ...QUEUE, max: 10, waitMs: 1_000 });

        expect(attempts).toEqual([1, 2, 3]);
        expect(outcomes).toEqual(['retrying', 'retrying', 'dead_lettered']);
        expect(afterLast).toEqual([]);
        expect(await queue.getDeadLetter(id)).toMatchObject({ id, reason: 'max_attempts', error: 'gateway timeout 3', attempts: 3 });
        const deadLettered = (await metrics.deadLettered.get()).values;
        expect(deadLettered.map((v) => [v.labels.reason, v.labels.broker, v.value])).toEqual([['max_attempts', activeBroker(transport), 1]]);
        await expectDepth(transport, 'normal', DOMAIN, { ready: 0, inFlight: 0 });
      });

      it('gives a retry on the last attempt without an error a text that says why it was dead-lettered', async () => {
        const transport = await harness.create(contractSettings({ maxAttempts: 1 }));
        const { queue } = queueOver(transport, 1);
        const { id } = await queue.publish({ priority: 'normal', domain: DOMAIN, payload: 1, deadlineMs: 3_600_000 });
        const delivery = await pullOne(queue, 'the only delivery');

        const outcome = await queue.retry(delivery.id, DOMAIN, delivery.lease, 0);

        expect(outcome.status).toBe('dead_lettered');
        expect(await queue.getDeadLetter(id)).toMatchObject({ reason: 'max_attempts', attempts: 1, error: expect.stringContaining('1 of 1') });
      });

      it('labels an ack in the metrics with the broker that delivered the item', async () => {
        const transport = await harness.create(contractSettings());
        const { queue, metrics } = queueOver(transport, 3);
        const receipt = await queue.publish({ priority: 'normal', domain: DOMAIN, payload: 1, deadlineMs: 3_600_000 });
        const delivery = await pullOne(queue, 'the delivery');

        await queue.ack(delivery.id, DOMAIN, delivery.lease);

        const acked = (await metrics.acked.get()).values;
        expect(acked.map((v) => [v.labels.broker, v.value])).toEqual([[receipt.broker, 1]]);
      });
    });

    describe('durability', () => {
      it('keeps published and in-flight items across a reopen', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const inFlight = makeItem({ payload: 'in flight' });
        const waiting = makeItem({ payload: 'waiting' });
        await publishAll(transport, [inFlight, waiting]);
        await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });

        const reopened = await harness.reopen(transport, settings);
        const deliveries = (await pullExactly(reopened, QUEUE, 2)).map(asDelivery);

        const byId = new Map(deliveries.map((d) => [d.id, d.item]));
        expect(byId.get(inFlight.id)).toEqual({ ...inFlight, attempts: 2 });
        expect(byId.get(waiting.id)).toEqual({ ...waiting, attempts: 1 });
      });

      it('keeps dead letters across a reopen', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const item = makeItem();
        await transport.publish(item);
        const [delivery] = await pullExactly(transport, QUEUE, 1);
        const deadLetter = await transport.deadLetter(delivery, 'nack', 'kept');

        const reopened = await harness.reopen(transport, settings);

        expect(await reopened.getDeadLetter(item.id)).toEqual(deadLetter);
        expect(await depthOf(reopened, 'normal', DOMAIN)).toEqual({ ready: 0, inFlight: 0 });
      });
    });

    describe('schedule coordination (optional hook)', () => {
      it('keeps schedules and their last tick across a reopen, and forgets a removed one', async () => {
        const settings = contractSettings();
        const transport = await harness.create(settings);
        const store = transport.scheduleCoordination(SCHEDULE_LEASE_MS)?.store;
        // A transport without the hook keeps schedules in the process: nothing to check here.
        if (!store) return;
        const kept: ScheduleDefinition = {
          jobId: 'nightly.report:v1',
          kind: 'cron',
          priority: 'low',
          domain: DOMAIN,
          cron: '0 0 * * *',
          deadlineMs: 1_000,
          payload: { a: [1] },
          whenBusy: 'skip',
          catchUp: 'all',
        };
        const removed: ScheduleDefinition = { ...kept, jobId: 'hourly', kind: 'interval', cron: undefined, intervalMs: 3_600_000 };
        await store.save(kept);
        await store.save({ ...removed, deadlineMs: 5 });
        await store.save(removed);
        await store.recordTick(kept.jobId, 1_700_000_000_000);
        await store.remove(removed.jobId);

        const reopened = await harness.reopen(transport, settings);
        const reopenedStore = reopened.scheduleCoordination(SCHEDULE_LEASE_MS)?.store;

        expect(await reopenedStore?.list()).toEqual([kept]);
        expect(await reopenedStore?.lastTick(kept.jobId)).toBe(1_700_000_000_000);
        expect(await reopenedStore?.lastTick(removed.jobId)).toBeUndefined();
      });

      it('makes the one instance competing for the schedule lease its leader', async () => {
        const transport = await harness.create(contractSettings());
        const leadership = transport.scheduleCoordination(SCHEDULE_LEASE_MS)?.leadership;
        if (!leadership) return;

        leadership.start();

        await eventually('the schedule lease', async () => (leadership.isLeader() ? true : undefined));
        expect(leadership.epoch).toBe(1);
        await leadership.close();
        expect(leadership.isLeader()).toBe(false);
      });
    });

    describe('fleet coordination (optional hook)', () => {
      it('lists an announced instance until it leaves, and makes the one instance competing for the coordinator lease its leader', async () => {
        const transport = await harness.create(contractSettings());
        const fleet = transport.fleetCoordination(FLEET_SETTINGS);
        // A transport without the hook is a fleet of one: nothing to check here.
        if (!fleet) return;
        const instance: FleetInstance = {
          id: `contract${Date.now()}`,
          host: 'contract-host',
          pid: 4242,
          started_at: 1,
          current_workers: 2,
          target_workers: 3,
          draining: false,
          broker: { active: transport.broker, state: 'up' },
          last_sample: { depth: 5, at: 2 },
          sweep_leader: false,
          announced_at: 3,
        };

        await fleet.membership.announce(instance);
        const listed = await eventually('the announced instance', async () => (await fleet.membership.members()).find((member) => member.id === instance.id));
        await fleet.membership.leave(instance.id);
        const afterLeaving = (await fleet.membership.members()).map((member) => member.id);
        fleet.leadership.start();
        await eventually('the coordinator lease', async () => (fleet.leadership.isLeader() ? true : undefined));
        await fleet.leadership.close();

        expect(listed).toEqual(instance);
        expect(afterLeaving).not.toContain(instance.id);
        expect(fleet.leadership.isLeader()).toBe(false);
      });
    });
  });
}
