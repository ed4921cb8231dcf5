import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { itControllingBrokers, natsBroker, testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const chaos = itControllingBrokers('nats');

describe('NATS: dead letters across a kill -9 of nats-server', () => {
  afterEach(() => harness.cleanup());

  chaos('can still be listed, fetched and deleted after nats-server and the transport restart', async () => {
    // Arrange
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const domain = testNamespace().domain('dlq');
    const items = [makeItem({ domain, payload: 'a' }), makeItem({ domain, payload: 'b' }), makeItem({ domain, payload: 'c' })];
    for (const item of items) await transport.publish(item);
    for (const delivery of await transport.pull({ domain, priority: 'normal' }, 3, { leaseMs: LONG_LEASE_MS, waitMs: 1_000 })) {
      await transport.deadLetter(delivery, 'nack', `rejected ${delivery.id}`);
    }

    // Act
    await natsBroker().kill9();
    await natsBroker().restart();
    const reopened = await harness.reopen(transport, settings);
    const listed = (await reopened.listDeadLetters({ domain })).items;
    const fetched = await reopened.getDeadLetter(items[1].id);
    await reopened.deleteDeadLetter(items[0].id);

    // Assert
    expect(listed.map((d) => d.id).sort()).toEqual(items.map((item) => item.id).sort());
    expect(fetched).toMatchObject({ id: items[1].id, reason: 'nack', error: `rejected ${items[1].id}`, attempts: 1, broker: 'nats' });
    expect(fetched.item?.payload).toBe('b');
    expect((await reopened.listDeadLetters({ domain })).items.map((d) => d.id).sort()).toEqual([items[1].id, items[2].id].sort());
  });
});
