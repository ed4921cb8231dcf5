import { jetstreamManager } from '@nats-io/jetstream';
import { performance } from 'node:perf_hooks';
import { isMalformed, type Delivery, type TransportDelivery } from '../../libs/kanban/src/interfaces';
import { KanbanConfigError } from '../../libs/kanban/src/errors';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { NATS_ACK_PENDING_PULLS } from '../../libs/kanban/src/transports/nats/nats-topology';
import { contractSettings, depthOf, eventually, LONG_LEASE_MS, makeItem, pullExactly, SHORT_LEASE_MS } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const DAY_MS = 24 * 60 * 60 * 1_000;
/** Delays from this on leave the work stream in the tests below (the default is higher). */
const DELAY_STREAM_MIN_MS = 100;
const SHORT_DELAY_MS = 600;

function asDelivery(delivery: TransportDelivery): Delivery {
  if (isMalformed(delivery)) throw new Error(`Expected a decoded delivery, got malformed ${delivery.id}`);
  return delivery;
}

describe('NATS: retries with a long delay', () => {
  afterEach(() => harness.cleanup());

  it('refuses a negative delayStreamMinMs at construction, naming the option', () => {
    // Act
    const build = (): NatsTransport => new NatsTransport({ servers: ['nats://127.0.0.1:4222'], delayStreamMinMs: -1 }, contractSettings());

    // Assert
    expect(build).toThrow(KanbanConfigError);
    expect(build).toThrow(/nats\.delayStreamMinMs/);
  });

  it('keep a full in-flight window of items retried with a 24 h delay from blocking the rest of the queue', async () => {
    // Arrange: the consumer allows workerPullSize × NATS_ACK_PENDING_PULLS deliveries unacknowledged.
    const settings = contractSettings({ workerPullSize: 1 });
    const window = settings.workerPullSize * NATS_ACK_PENDING_PULLS;
    const transport = await harness.create(settings);
    const domain = testNamespace().domain('longdelay');
    const queue = { domain, priority: 'normal' } as const;
    for (let n = 0; n < window; n++) await transport.publish(makeItem({ domain, payload: { n } }));
    const delayed = await pullExactly(transport, queue, window);
    for (const delivery of delayed) await transport.retry(delivery, DAY_MS);
    const fresh = makeItem({ domain, payload: { fresh: true } });

    // Act
    await transport.publish(fresh);
    const [next] = await pullExactly(transport, queue, 1, { waitMs: 1_000 });
    await transport.ack(next);

    // Assert
    expect(next.id).toBe(fresh.id);
    // The delayed items are not lost: depth counts them in flight, as it would a delayed NAK.
    expect(await depthOf(transport, 'normal', domain)).toEqual({ ready: 0, inFlight: window });
  });

  it("returns an item retried with a delay when due, outside the consumer's ack-pending window meanwhile (depth counts it in flight), with attempts + 1 each time", async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { delayStreamMinMs: DELAY_STREAM_MIN_MS });
    const domain = testNamespace().domain('delayback');
    const queue = { domain, priority: 'normal' } as const;
    const item = makeItem({ domain, payload: { order: 9 }, headers: { tenant: 'acme' } });
    await transport.publish(item);
    const [first] = await pullExactly(transport, queue, 1);
    const jsm = await jetstreamManager(await harness.rawClient());
    const prefix = harness.prefixOf(transport);

    // Act
    const retriedAt = performance.now();
    await transport.retry(first, SHORT_DELAY_MS);
    const whileDelayed = await depthOf(transport, 'normal', domain);
    const ackPendingWhileDelayed = (await jsm.consumers.info(`${prefix}_NORMAL_${domain}`, `${prefix}_worker`)).num_ack_pending;
    const early = await transport.pull(queue, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    const [second] = await pullExactly(transport, queue, 1, { waitMs: 5_000 });
    const elapsed = performance.now() - retriedAt;
    await transport.retry(second, SHORT_DELAY_MS);
    const [third] = await pullExactly(transport, queue, 1, { waitMs: 5_000 });
    await transport.ack(third);

    // Assert
    expect(whileDelayed).toEqual({ ready: 0, inFlight: 1 });
    expect(ackPendingWhileDelayed).toBe(0);
    expect(early).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(SHORT_DELAY_MS - 25);
    expect(asDelivery(second).item).toEqual({ ...item, attempts: 2 });
    expect(asDelivery(third).item).toEqual({ ...item, attempts: 3 });
    expect(await depthOf(transport, 'normal', domain)).toEqual({ ready: 0, inFlight: 0 });
  });

  it('holds an item back for the stalled sweep when its lease lapses on its last attempt after a delayed retry', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ maxAttempts: 2 }), { delayStreamMinMs: DELAY_STREAM_MIN_MS });
    const domain = testNamespace().domain('delaylast');
    const queue = { domain, priority: 'normal' } as const;
    const item = makeItem({ domain });
    await transport.publish(item);
    const [first] = await pullExactly(transport, queue, 1);
    await transport.retry(first, SHORT_DELAY_MS);
    const [last] = await pullExactly(transport, queue, 1, { waitMs: 5_000, leaseMs: SHORT_LEASE_MS });

    // Act
    const swept = await eventually('the lapsed last attempt swept', async () => {
      const moved = await transport.sweepStalled(LONG_LEASE_MS);
      return moved.length > 0 ? moved : undefined;
    });
    const after = await transport.pull(queue, 10, { leaseMs: LONG_LEASE_MS, waitMs: SHORT_LEASE_MS });

    // Assert
    expect(asDelivery(last).item.attempts).toBe(2);
    expect(swept).toMatchObject([{ id: item.id, reason: 'stalled', attempts: 2 }]);
    expect(after).toEqual([]);
  });
});
