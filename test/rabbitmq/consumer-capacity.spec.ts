import { LONG_LEASE_MS, contractSettings, depthOf, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;

describe('RabbitMQ consumers beyond one prefetch', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('serves several workers of one queue, each holding a full pull, without double delivery', async () => {
    // Arrange
    const workerPullSize = 5;
    const workers = 4;
    const transport = await harness.create(contractSettings({ workerPullSize }));
    const items = Array.from({ length: 30 }, (_, n) => makeItem({ payload: { n } }));
    await publishAll(transport, items);

    // Act: every worker keeps its items leased, as a slow handler would.
    const held = await Promise.all(Array.from({ length: workers }, () => pullExactly(transport, QUEUE, workerPullSize)));

    // Assert
    const ids = held.flat().map((delivery) => delivery.id);
    expect(new Set(ids).size).toBe(workers * workerPullSize);
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: items.length - workers * workerPullSize, inFlight: workers * workerPullSize });
  });

  it('keeps a domain pull on high work while high work waits beyond the first consumer’s prefetch', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ workerPullSize: 2 }));
    await publishAll(transport, [makeItem({ priority: 'low' }), makeItem({ priority: 'low' })]);
    await publishAll(
      transport,
      Array.from({ length: 4 }, () => makeItem({ priority: 'high' })),
    );
    const first = await pullExactly(transport, { domain: 'orders' }, 2);

    // Act: the first pull's items stay leased, so the high consumer is full.
    const second = await transport.pull({ domain: 'orders' }, 2, { leaseMs: LONG_LEASE_MS, waitMs: 2_000 });
    const third = await pullExactly(transport, { domain: 'orders' }, 2);

    // Assert
    expect(first.map((delivery) => delivery.priority)).toEqual(['high', 'high']);
    expect(second.map((delivery) => delivery.priority)).toEqual(['high', 'high']);
    expect(third.map((delivery) => delivery.priority)).toEqual(['low', 'low']);
  });
});
