import { performance } from 'node:perf_hooks';
import { isMalformed, type TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { LONG_LEASE_MS, contractSettings, depthOf, eventually, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
const DAY_MS = 24 * 60 * 60 * 1_000;
/** Credit of the queue's consumer is workerPullSize × 10: 20 deliveries. */
const PULL_SIZE = 2;
/** Ten times the consumer's credit: held as unacknowledged deliveries they could never all fit. */
const LONG_DELAYED = 200;
const FRESH = 10;
/** A pull that waits in vain this long finds nothing to take. */
const PULL_WAIT_MS = 2_000;

function attemptsOf(delivery: TransportDelivery): number {
  return isMalformed(delivery) ? delivery.attempts : delivery.item.attempts;
}

/** Pulls (at most the pull size at a time) and retries with `delayMs` until `count` items were retried; fails when a pull comes back empty first. */
async function retryAll(transport: RabbitMqTransport, count: number, delayMs: number): Promise<void> {
  let retried = 0;
  while (retried < count) {
    const batch = await transport.pull(QUEUE, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: PULL_WAIT_MS });
    if (batch.length === 0) throw new Error(`pull came back empty after ${retried} of ${count} retries: delayed items hold the consumer's credit`);
    for (const delivery of batch) await transport.retry(delivery, delayMs);
    retried += batch.length;
  }
}

/**
 * Retry delays are kept by the broker, outside the consumer's in-flight window: a delayed item
 * holds no consumer credit and no unacknowledged delivery (which RabbitMQ's consumer_timeout would
 * void), comes back as the next attempt when due, and survives the instance that retried it.
 */
describe('RabbitMQ delayed retries', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('keeps items retried with a 24 h delay out of the consumer credit, so the rest of the queue flows', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ workerPullSize: PULL_SIZE }));
    await publishAll(
      transport,
      Array.from({ length: LONG_DELAYED }, (_, n) => makeItem({ payload: { delayed: n } })),
    );
    await retryAll(transport, LONG_DELAYED, DAY_MS);
    const fresh = Array.from({ length: FRESH }, (_, n) => makeItem({ payload: { fresh: n } }));

    // Act
    await publishAll(transport, fresh);
    const pulled = await pullExactly(transport, QUEUE, FRESH, { waitMs: PULL_WAIT_MS });
    for (const delivery of pulled) await transport.ack(delivery);

    // Assert
    expect(pulled.map((delivery) => delivery.id).sort()).toEqual(fresh.map((item) => item.id).sort());
    // Waiting out a retry delay counts as ready, as on every transport.
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: LONG_DELAYED, inFlight: 0 });
    expect(await transport.delayed()).toBe(LONG_DELAYED);
  }, 120_000);

  it('returns a short-delayed item when due as the next attempt, also after the retrying instance closed', async () => {
    // Arrange
    const settings = contractSettings();
    const retrying = await harness.create(settings);
    const item = makeItem();
    await retrying.publish(item);
    const [first] = await pullExactly(retrying, QUEUE, 1);
    const delayMs = 1_500;

    // Act
    const retriedAt = performance.now();
    await retrying.retry(first, delayMs);
    await retrying.close();
    const other = harness.sibling(retrying, settings);
    await other.connect();
    const second = await eventually('the delayed item to come back', async () => {
      const [delivery] = await other.pull(QUEUE, 1, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
      return delivery;
    });
    const elapsed = performance.now() - retriedAt;

    // Assert
    expect(second.id).toBe(item.id);
    expect(attemptsOf(second)).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(delayMs - 25);
    await other.ack(second);
    expect(await other.delayed()).toBe(0);
    expect(await depthOf(other, 'normal', 'orders')).toEqual({ ready: 0, inFlight: 0 });
  }, 60_000);

  it('brings a delayed retry of the last attempt back once more, as attempt maxAttempts + 1', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ maxAttempts: 1 }));
    await transport.publish(makeItem());
    const [first] = await pullExactly(transport, QUEUE, 1);

    // Act
    await transport.retry(first, 300);
    const [second] = await pullExactly(transport, QUEUE, 1, { waitMs: 2_000 });

    // Assert
    expect(second.id).toBe(first.id);
    expect(attemptsOf(second)).toBe(2);
  }, 60_000);
});
