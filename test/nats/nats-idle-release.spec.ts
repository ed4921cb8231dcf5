import { contractSettings, eventually, letTimePass, makeItem, publishAll, pullExactly } from '../contract/contract-helpers';
import { createNatsHarness } from './nats-harness';

/** Short enough that the test waits a few seconds for the release, long enough that a loaded machine opens all three queues first. */
const RELEASE_IDLE_AFTER_MS = 2_000;
const DOMAINS = ['idle-a', 'idle-b', 'idle-c'];

describe('NATS idle queue resources', () => {
  const harness = createNatsHarness();
  afterEach(() => harness.cleanup());

  it('closes the standing pulls of queues nobody pulled for the idle time, and a later pull opens one again', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
    // Declared first and pulled together: the three queues open within the idle time of each other.
    for (const domain of DOMAINS) await transport.ensureQueue('normal', domain);
    await Promise.all(DOMAINS.map((domain) => transport.pull({ domain, priority: 'normal' }, 1, { leaseMs: 1_000, waitMs: 50 })));
    expect(transport.openQueueSubscriptions()).toBe(DOMAINS.length);

    // Act
    await eventually('idle queue subscriptions closed', async () => (transport.openQueueSubscriptions() === 0 ? true : undefined));
    const item = makeItem({ domain: DOMAINS[0], priority: 'normal' });
    await publishAll(transport, [item]);
    const [delivery] = await pullExactly(transport, { domain: DOMAINS[0], priority: 'normal' }, 1);

    // Assert
    expect(delivery.id).toBe(item.id);
    expect(transport.openQueueSubscriptions()).toBe(1);
  });

  it('keeps a queue in use by a long waiting pull, which still gets what is published', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { releaseIdleAfterMs: RELEASE_IDLE_AFTER_MS });
    const queue = { domain: DOMAINS[1], priority: 'normal' } as const;
    const waiting = transport.pull(queue, 1, { leaseMs: 1_000, waitMs: RELEASE_IDLE_AFTER_MS * 5 });
    await eventually('the waiting pull subscribed', async () => (transport.openQueueSubscriptions() === 1 ? true : undefined));

    // Act: well past the idle time while the pull waits.
    const item = makeItem({ domain: queue.domain, priority: queue.priority });
    await letTimePass(RELEASE_IDLE_AFTER_MS * 3);
    await publishAll(transport, [item]);

    // Assert
    expect((await waiting).map((delivery) => delivery.id)).toEqual([item.id]);
  });
});
