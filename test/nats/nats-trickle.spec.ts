import { performance } from 'node:perf_hooks';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const ITEMS = 60;
const PUBLISH_EVERY_MS = 50;
/** A lost pull request used to be waited out for 2 s; a hand-out later than this is such a stall. */
const STALL_MS = 1_000;

describe('NATS: a queue whose items trickle in', () => {
  afterEach(() => harness.cleanup());

  it('hands each item to the short waiting pulls without stalling on a pull request the server dropped', async () => {
    // Arrange: one item every 50 ms, pulls that wait 50 ms (many pull requests, each sent as the previous expires)
    const transport = await harness.create(contractSettings({ workerPullSize: 5 }));
    const domain = testNamespace().domain('trickle');
    await transport.ensureQueue('normal', domain);
    const publishedAt = new Map<string, number>();
    const producer = (async () => {
      for (let n = 0; n < ITEMS; n++) {
        const item = makeItem({ domain, payload: { n } });
        publishedAt.set(item.id, performance.now());
        await transport.publish(item);
        await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS));
      }
    })();

    // Act
    const waited: number[] = [];
    while (waited.length < ITEMS) {
      const batch = await transport.pull({ domain, priority: 'normal' }, 5, { leaseMs: 30_000, waitMs: 50 });
      for (const delivery of batch) {
        waited.push(performance.now() - (publishedAt.get(delivery.id) as number));
        await transport.ack(delivery);
      }
    }
    await producer;

    // Assert
    expect(waited.filter((ms) => ms > STALL_MS)).toEqual([]);
  }, 60_000);
});
