import { LONG_LEASE_MS, contractSettings, depthOf, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { RABBITMQ_CONSUMER_CREDIT_PULLS } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq.constants';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

describe('RabbitMQ pulls beyond what the local buffer holds', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('fills a pull larger than the prefetch from what the broker holds ready, pull after pull', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ workerPullSize: 3 }));
    await publishAll(
      transport,
      Array.from({ length: 25 }, (_, n) => makeItem({ payload: { n } })),
    );

    // Act
    const first = await transport.pull({ domain: 'orders' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 3_000 });
    const second = await transport.pull({ domain: 'orders', priority: 'normal' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 3_000 });

    // Assert
    expect(first).toHaveLength(10);
    expect(second).toHaveLength(10);
    expect(new Set([...first, ...second].map((delivery) => delivery.id)).size).toBe(20);
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 5, inFlight: 20 });
  });

  it('serves high work the broker pushes only after a full high consumer was settled before any lower work', async () => {
    // Arrange: the high consumer's whole credit (workerPullSize × RABBITMQ_CONSUMER_CREDIT_PULLS) is leased; one more high item waits on the broker.
    const workerPullSize = 3;
    const credit = workerPullSize * RABBITMQ_CONSUMER_CREDIT_PULLS;
    const transport = await harness.create(contractSettings({ workerPullSize }));
    await publishAll(
      transport,
      Array.from({ length: 3 }, () => makeItem({ priority: 'low' })),
    );
    await publishAll(
      transport,
      Array.from({ length: credit + 1 }, () => makeItem({ priority: 'high' })),
    );
    const first = await pullExactly(transport, { domain: 'orders' }, credit);

    // Act: settling frees the credit; the broker pushes the last high item asynchronously.
    await Promise.all(first.map((delivery) => transport.ack(delivery)));
    const second = await transport.pull({ domain: 'orders' }, 3, { leaseMs: LONG_LEASE_MS, waitMs: 2_000 });

    // Assert
    expect(new Set(first.map((delivery) => delivery.priority))).toEqual(new Set(['high']));
    expect(second[0]?.priority).toBe('high');
    expect(second.map((delivery) => delivery.priority)).toEqual(['high', 'low', 'low']);
  });
});
