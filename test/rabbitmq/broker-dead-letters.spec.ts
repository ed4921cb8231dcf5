import { isMalformed, type Delivery, type TransportDelivery } from '../../libs/kanban/src/interfaces';
import { LONG_LEASE_MS, SHORT_LEASE_MS, contractSettings, eventually, makeItem, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;

function decoded(delivery: TransportDelivery): Delivery {
  if (isMalformed(delivery)) throw new Error(`unexpected malformed delivery: ${delivery.error}`);
  return delivery;
}

describe('RabbitMQ delivery limit and attempts', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('records an item as stalled when the process holding its last attempt goes away (broker dead-lettering)', async () => {
    // Arrange
    const settings = contractSettings({ maxAttempts: 2 });
    const first = await harness.create(settings);
    const item = makeItem();
    await first.publish(item);
    const [attempt1] = await pullExactly(first, QUEUE, 1);
    await first.retry(attempt1, 0);
    const [attempt2] = await pullExactly(first, QUEUE, 1);
    const second = harness.sibling(first, settings);
    await second.connect();

    // Act: the holder of the last attempt disappears without settling it.
    await first.close();
    const moved = await eventually('the broker to dead-letter the item', async () => {
      const swept = await second.sweepStalled(LONG_LEASE_MS);
      return swept.length > 0 ? swept : undefined;
    });

    // Assert
    expect(decoded(attempt2).item.attempts).toBe(2);
    expect(moved).toEqual([expect.objectContaining({ id: item.id, reason: 'stalled', attempts: 2, broker: 'rabbitmq' })]);
    expect(moved[0].error).toContain('RabbitMQ dead-lettered it');
    expect((await second.getDeadLetter(item.id)).reason).toBe('stalled');
    expect(await second.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 300 })).toEqual([]);
    await second.close();
  });

  it('redelivers a retry asked for on the last attempt as the next attempt, and sweeps it once its lease lapses', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ maxAttempts: 1 }));
    const item = makeItem();
    await transport.publish(item);
    const [last] = await pullExactly(transport, QUEUE, 1);

    // Act
    await transport.retry(last, 0);
    const [extra] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });
    const moved = await eventually('the lapsed extra attempt to be swept', async () => {
      const swept = await transport.sweepStalled(LONG_LEASE_MS);
      return swept.length > 0 ? swept : undefined;
    });

    // Assert
    expect(decoded(last).item.attempts).toBe(1);
    expect(decoded(extra).item).toEqual({ ...item, attempts: 2 });
    expect(moved.map((d) => [d.id, d.reason, d.attempts])).toEqual([[item.id, 'stalled', 2]]);
  });

  it('gives prefetched items back on close without counting them as attempts', async () => {
    // Arrange
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const items = Array.from({ length: 5 }, (_, n) => makeItem({ payload: { n } }));
    for (const item of items) await transport.publish(item);
    await pullExactly(transport, QUEUE, 1);

    // Act
    const reopened = await harness.reopen(transport, settings);
    const deliveries = (await pullExactly(reopened, QUEUE, 5)).map(decoded);

    // Assert
    const attempts = new Map(deliveries.map((delivery) => [delivery.id, delivery.item.attempts]));
    expect(attempts.get(items[0].id)).toBe(2);
    expect(items.slice(1).map((item) => attempts.get(item.id))).toEqual([1, 1, 1, 1]);
  });
});
