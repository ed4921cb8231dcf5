import { jetstreamManager } from '@nats-io/jetstream';
import type { TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { itControllingBrokers, natsBroker, testNamespace, waitFor } from '../harness';
import { createFailoverHarness } from './failover-harness';

const harness = createFailoverHarness();
const ITEMS_PER_DOMAIN = 30;
const PULL_SIZE = 5;
const PHASE_TIMEOUT_MS = 20_000;
const chaos = itControllingBrokers('nats', 'rabbitmq');

/** Deletes the shared work consumer of one NATS queue, the way `nats consumer rm` does. */
async function deleteWorkConsumer(transport: FailoverTransport, domain: string): Promise<void> {
  const prefix = harness.natsPrefixOf(transport);
  const nc = await harness.rawNatsClient();
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.delete(`${prefix}_NORMAL_${domain}`, `${prefix}_worker`);
}

/** Pulls and acks from each domain until every expected id was acked, at most PHASE_TIMEOUT_MS. */
async function consumeAll(transport: FailoverTransport, domains: string[], expected: Set<string>): Promise<TransportDelivery[]> {
  const acked: TransportDelivery[] = [];
  await waitFor(
    async () => {
      for (const domain of domains) {
        const batch = await transport.pull({ domain, priority: 'normal' }, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 100 });
        for (const delivery of batch) {
          await transport.ack(delivery);
          acked.push(delivery);
        }
      }
      return acked.filter((delivery) => expected.has(delivery.id)).length >= expected.size ? true : undefined;
    },
    { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 0, description: `${expected.size} items acked` },
  );
  return acked;
}

describe('failover: a NATS work consumer deleted (nats consumer rm)', () => {
  afterEach(async () => {
    await natsBroker().sigcont();
    await harness.cleanup();
  });
  afterAll(() => harness.dispose());

  it('delivers the items of that queue under load and keeps publishing to NATS', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const namespace = testNamespace();
    const [gone, other] = [namespace.domain('gone'), namespace.domain('other')];
    const items = [...Array.from({ length: ITEMS_PER_DOMAIN }, () => makeItem({ domain: gone })), ...Array.from({ length: ITEMS_PER_DOMAIN }, () => makeItem({ domain: other }))];
    for (const item of items) await transport.publish(item);
    const [first] = await transport.pull({ domain: gone, priority: 'normal' }, 1, { leaseMs: LONG_LEASE_MS, waitMs: 1_000 });
    await transport.ack(first);

    // Act
    await deleteWorkConsumer(transport, gone);
    const acked = await consumeAll(transport, [gone, other], new Set(items.slice(1).map((item) => item.id)));
    const receipt = await transport.publish(makeItem({ domain: other }));

    // Assert
    expect(new Set(acked.map((delivery) => delivery.id))).toEqual(new Set(items.slice(1).map((item) => item.id)));
    expect(receipt.broker).toBe('nats');
    expect(transport.currentStatus.active).toBe('nats');
  });

  chaos('fails back to NATS after an outage although one queue lost its consumer, and delivers that queue', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { publishTimeoutMs: 500 });
    const namespace = testNamespace();
    const [gone, other] = [namespace.domain('gone'), namespace.domain('other')];
    const stuck = Array.from({ length: ITEMS_PER_DOMAIN }, () => makeItem({ domain: gone }));
    for (const item of stuck) await transport.publish(item);
    // Both queues' consumers exist, as once instances pulled (a publish declares only the stream).
    await transport.ensureQueue('normal', gone);
    await transport.ensureQueue('normal', other);
    await deleteWorkConsumer(transport, gone);

    // Act
    await natsBroker().sigstop();
    const during = await waitFor(
      async () => {
        const receipt = await transport.publish(makeItem({ domain: other }));
        return receipt.broker === 'rabbitmq' ? receipt : undefined;
      },
      { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 0, description: 'a publish taken by RabbitMQ while NATS is frozen' },
    );
    await natsBroker().sigcont();
    await waitFor(() => (transport.currentStatus.active === 'nats' ? true : undefined), { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 50, description: 'failback to NATS' });
    const acked = await consumeAll(transport, [gone], new Set(stuck.map((item) => item.id)));

    // Assert
    expect(during.broker).toBe('rabbitmq');
    expect(new Set(acked.map((delivery) => delivery.id))).toEqual(new Set(stuck.map((item) => item.id)));
    expect(acked.every((delivery) => delivery.lease.startsWith('nats:'))).toBe(true);
  });
});
