import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();

describe('NATS: idempotency keys', () => {
  afterEach(() => harness.cleanup());

  it('returns the first item id for a duplicate even after the first item was processed and removed', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const domain = testNamespace().domain('idem');
    const first = makeItem({ domain, idempotencyKey: 'invoice.42>*', payload: 1 });
    await transport.publish(first);
    const [delivery] = await transport.pull({ domain, priority: 'normal' }, 1, { leaseMs: LONG_LEASE_MS, waitMs: 1_000 });
    await transport.ack(delivery);

    // Act
    const receipt = await transport.publish(makeItem({ domain, idempotencyKey: 'invoice.42>*', payload: 2 }));

    // Assert
    expect(receipt).toEqual({ id: first.id, broker: 'nats', duplicate: true });
    expect(await transport.pull({ domain, priority: 'normal' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 300 })).toEqual([]);
  });
});
