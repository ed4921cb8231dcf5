import { contractSettings, eventually, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

/** Short enough that the test waits a few seconds for the release, long enough that a loaded machine opens all three queues first. */
const RELEASE_IDLE_AFTER_MS = 2_000;
const DOMAINS = ['idle-a', 'idle-b', 'idle-c'];
/** A pull of a (priority, domain) consumes its work queue and its grouped queue, a channel each. */
const CHANNELS_PER_PULLED_QUEUE = 2;

describe('RabbitMQ idle queue resources', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('closes the consumers and channels of queues nobody pulled for the idle time, and a later pull subscribes again', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
    // Declared first and pulled together: the three queues open within the idle time of each other.
    for (const domain of DOMAINS) await transport.ensureQueue('normal', domain);
    await Promise.all(DOMAINS.map((domain) => transport.pull({ domain, priority: 'normal' }, 1, { leaseMs: 1_000, waitMs: 0 })));
    expect(transport.openQueueChannels()).toBe(DOMAINS.length * CHANNELS_PER_PULLED_QUEUE);

    // Act
    await eventually('idle queue channels closed', async () => (transport.openQueueChannels() === 0 ? true : undefined));
    const item = makeItem({ domain: DOMAINS[0], priority: 'normal' });
    await publishAll(transport, [item]);
    const [delivery] = await pullExactly(transport, { domain: DOMAINS[0], priority: 'normal' }, 1);

    // Assert
    expect(delivery.id).toBe(item.id);
    expect(transport.openQueueChannels()).toBe(CHANNELS_PER_PULLED_QUEUE);
  });

  it('hands back what an idle queue prefetched and keeps the channel of a queue with a leased item', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ workerPullSize: 5 }), { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
    const items = Array.from({ length: 4 }, (_, n) => makeItem({ domain: DOMAINS[1], priority: 'normal', payload: { n } }));
    await publishAll(transport, items);
    const [leased] = await pullExactly(transport, { domain: DOMAINS[1], priority: 'normal' }, 1);

    // Act: the other three were prefetched; the queue goes idle while one item is leased.
    const peer = harness.sibling(transport, contractSettings());
    await peer.connect();
    const handedBack = await pullExactly(peer, { domain: DOMAINS[1], priority: 'normal' }, 3);

    // Assert
    expect(handedBack.map((delivery) => delivery.id).sort()).toEqual(
      items
        .filter((item) => item.id !== leased.id)
        .map((item) => item.id)
        .sort(),
    );
    expect(transport.openQueueChannels()).toBe(1);
    await transport.ack({ id: leased.id, lease: leased.lease, domain: leased.domain, priority: leased.priority });
    await eventually('the settled queue channel closed', async () => (transport.openQueueChannels() === 0 ? true : undefined));
  });
});
