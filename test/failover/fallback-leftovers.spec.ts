import type { TransportDelivery } from '../../libs/kanban/src/interfaces';
import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createFailoverHarness } from './failover-harness';

const harness = createFailoverHarness();
const LEFTOVERS = 5;
const NATS_ITEMS = 60;
const PULL_SIZE = 5;
/** Pulls within which every leftover must have come out although NATS alone could fill each of them (PULLS × PULL_SIZE < NATS_ITEMS). */
const PULLS = 8;

describe('failover: items left on RabbitMQ when NATS is back', () => {
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('hands them out between NATS items instead of after the whole NATS backlog', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const domain = testNamespace().domain('leftovers');
    const leftovers = Array.from({ length: LEFTOVERS }, () => makeItem({ domain }));
    for (const item of leftovers) await harness.partsOf(transport).rabbitmq.publish(item);
    for (let n = 0; n < NATS_ITEMS; n++) await transport.publish(makeItem({ domain }));

    // Act
    const pulled: TransportDelivery[] = [];
    const leftoversOut = (): boolean => pulled.filter((delivery) => delivery.lease.startsWith('rabbitmq:')).length >= LEFTOVERS;
    for (let n = 0; n < PULLS && !leftoversOut(); n++) pulled.push(...(await transport.pull({ domain, priority: 'normal' }, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 0 })));

    // Assert
    const fromRabbitMq = pulled.filter((delivery) => delivery.lease.startsWith('rabbitmq:')).map((delivery) => delivery.id);
    expect(fromRabbitMq.sort()).toEqual(leftovers.map((item) => item.id).sort());
    expect(pulled.filter((delivery) => delivery.lease.startsWith('nats:')).length).toBeGreaterThan(0);
  });
});
