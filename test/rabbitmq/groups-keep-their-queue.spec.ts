import { performance } from 'node:perf_hooks';
import type { QueueRef, TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { LONG_LEASE_MS, contractSettings, eventually, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const QUEUE: QueueRef = { domain: 'orders', priority: 'normal' };
/** Short, so the holder goes idle within the test; long enough that a loaded machine pulls within it. */
const RELEASE_IDLE_AFTER_MS = 1_000;
/** Longer than two idle releases: what another instance could take meanwhile, it would have taken. */
const WATCH_MS = 3 * RELEASE_IDLE_AFTER_MS;
const RETRY_DELAY_MS = 300;

/** Pulls (never settling) for `ms`; what it got. */
async function pullFor(transport: RabbitMqTransport, ms: number): Promise<TransportDelivery[]> {
  const got: TransportDelivery[] = [];
  const until = performance.now() + ms;
  while (performance.now() < until) got.push(...(await transport.pull(QUEUE, 5, { leaseMs: LONG_LEASE_MS, waitMs: 100 })));
  return got;
}

/** A grouped item stays in its group's reach on every path back to a queue, so its group's cap keeps counting it. */
describe('RabbitMQ grouped items keep their group', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it("holds a group's cap when its holder goes idle while one of its items is leased there", async () => {
    // Arrange: the holder leases one item of a group capped at 1 and buffers the rest, then stops pulling
    const settings = contractSettings({ workerPullSize: 5 });
    const holder = await harness.create(settings, { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
    await holder.setGroupLimits(QUEUE.domain, 'capped', { maxInFlight: 1 });
    await publishAll(
      holder,
      Array.from({ length: 3 }, (_, n) => makeItem({ group: 'capped', payload: { n } })),
    );
    const [leased] = await pullExactly(holder, QUEUE, 1);
    const other = await harness.peer!(holder, settings);

    // Act
    const whileLeased = await pullFor(other as RabbitMqTransport, WATCH_MS);
    await holder.ack(leased);
    const next = await eventually('the next item at the other instance', async () => {
      const batch = await other.pull(QUEUE, 5, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
      return batch.length > 0 ? batch : undefined;
    });
    const more = await pullFor(other as RabbitMqTransport, WATCH_MS);

    // Assert
    expect(whileLeased).toEqual([]);
    expect(next).toHaveLength(1);
    expect(more).toEqual([]);
  });

  it('brings a grouped item retried with a delay back to its group, where the cap counts it', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ workerPullSize: 5 }));
    await transport.setGroupLimits(QUEUE.domain, 'capped', { maxInFlight: 1 });
    await publishAll(
      transport,
      Array.from({ length: 2 }, (_, n) => makeItem({ group: 'capped', payload: { n } })),
    );
    const [first] = await pullExactly(transport, QUEUE, 1);

    // Act: the first goes into the delay ladder, the second takes the group's one place; the first comes back meanwhile
    await transport.retry(first, RETRY_DELAY_MS);
    const [second] = await pullExactly(transport, QUEUE, 1);
    const whileSecondLeased = await pullFor(transport, RETRY_DELAY_MS * 5);
    await transport.ack(second);
    const [again] = await pullExactly(transport, QUEUE, 1);

    // Assert
    expect(second.id).not.toBe(first.id);
    expect(whileSecondLeased).toEqual([]);
    expect(again.id).toBe(first.id);
    expect('item' in again && again.item.group).toBe('capped');
  });
});
