import { RABBITMQ_CONSUMER_CREDIT_PULLS } from '../../libs/kanban/src/transports/rabbitmq';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { LONG_LEASE_MS, contractSettings, eventually, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
const PULL_SIZE = 2;
const PUBLISHED = 100;

/**
 * Backpressure as the broker sees it: what a process holds of a queue (pulled and prefetched
 * together) is unacknowledged at the broker, where no other process can take it. Counted from the
 * broker's side (published − acked − ready), not from the transport's own bookkeeping.
 */
describe('RabbitMQ backpressure at the broker', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  /** Messages of the queue the broker has handed to consumers and not yet seen settled. */
  async function unackedAtBroker(transport: RabbitMqTransport, acked: number): Promise<number> {
    const channel = await (await harness.admin()).createChannel();
    try {
      const { messageCount } = await channel.checkQueue(harness.namesOf(transport).workQueue(QUEUE.priority, QUEUE.domain));
      return PUBLISHED - acked - messageCount;
    } finally {
      await channel.close();
    }
  }

  it('leaves a process no more unacknowledged messages than one consumer credit, and the rest to other processes', async () => {
    // Arrange
    const settings = contractSettings({ workerPullSize: PULL_SIZE });
    const slow = await harness.create(settings);
    const other = harness.sibling(slow, settings);
    await other.connect();
    await publishAll(
      slow,
      Array.from({ length: PUBLISHED }, (_, n) => makeItem({ payload: { n } })),
    );

    // Act
    const held = await pullExactly(slow, QUEUE, PULL_SIZE);
    const heldBySlow = await eventually('the slow process to receive its credit', async () => {
      const count = await unackedAtBroker(slow, 0);
      return count >= PULL_SIZE ? count : undefined;
    });
    let acked = 0;
    for (;;) {
      const batch = await other.pull(QUEUE, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 1_000 });
      if (batch.length === 0) break;
      for (const delivery of batch) await other.ack(delivery);
      acked += batch.length;
    }
    const leftWithSlow = await unackedAtBroker(slow, acked);

    // Assert
    expect(heldBySlow).toBeLessThanOrEqual(PULL_SIZE * RABBITMQ_CONSUMER_CREDIT_PULLS);
    expect(acked).toBe(PUBLISHED - leftWithSlow);
    expect(leftWithSlow).toBeLessThanOrEqual(PULL_SIZE * RABBITMQ_CONSUMER_CREDIT_PULLS);
    expect(leftWithSlow).toBeGreaterThanOrEqual(held.length);
  });

  it('gives the broker back what a closing process prefetched, leaving nothing unacknowledged', async () => {
    // Arrange
    const settings = contractSettings({ workerPullSize: PULL_SIZE });
    const closing = await harness.create(settings);
    await publishAll(
      closing,
      Array.from({ length: PUBLISHED }, (_, n) => makeItem({ payload: { n } })),
    );
    const [delivery] = await pullExactly(closing, QUEUE, 1);
    await closing.ack(delivery);

    // Act
    await closing.close();

    // Assert
    expect(await unackedAtBroker(closing, 1)).toBe(0);
  });
});
