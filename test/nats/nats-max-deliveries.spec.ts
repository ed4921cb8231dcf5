import { createInbox } from '@nats-io/transport-node';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
/** Short server-side leases, so JetStream itself gives up on the item within the test. */
const SETTINGS = contractSettings({ maxAttempts: 1, leaseMs: 1_000, retryBackoffMs: [100] });

describe('NATS: items JetStream stopped delivering at max deliveries', () => {
  afterEach(() => harness.cleanup());

  it('are dead-lettered as stalled by the sweep, from the captured advisory, even though no instance was listening', async () => {
    // Arrange: a crashed instance is played by a raw client that takes every delivery and never settles.
    const transport = await harness.create(SETTINGS);
    const domain = testNamespace().domain('exhausted');
    const item = makeItem({ domain });
    // The queue's consumer exists once an instance pulled (a publish declares only the stream).
    await transport.ensureQueue('normal', domain);
    await transport.publish(item);
    const nc = await harness.rawClient();
    const prefix = harness.prefixOf(transport);
    const pullRaw = async (): Promise<number> => {
      const inbox = createInbox();
      const subscription = nc.subscribe(inbox, { max: 1, timeout: 3_000 });
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${prefix}_NORMAL_${domain}.${prefix}_worker`, JSON.stringify({ batch: 1, expires: 2_000_000_000 }), { reply: inbox });
      for await (const message of subscription) return message.data.length;
      return 0;
    };
    await waitFor(async () => (await pullRaw()) > 0 && (await pullRaw()) > 0, { timeoutMs: 15_000, description: 'two deliveries taken and abandoned' });
    // Once the last delivery's ack wait ran out, the next pull makes the server give up on it and publish the advisory.
    await waitFor(async () => (await pullRaw()) === 0 && (await transport.listDeadLetters({ domain })).items.length === 0, { timeoutMs: 15_000, description: 'JetStream to stop delivering the item' });

    // Act
    const moved = await waitFor(
      async () => {
        const swept = await transport.sweepStalled(60_000);
        return swept.length > 0 ? swept : undefined;
      },
      { timeoutMs: 15_000, description: 'the sweep to move the exhausted item' },
    );

    // Assert
    expect(moved.map((d) => [d.id, d.reason])).toEqual([[item.id, 'stalled']]);
    expect((await transport.getDeadLetter(item.id)).item?.payload).toEqual(item.payload);
    expect(await transport.depth()).toEqual([{ broker: 'nats', priority: 'normal', domain, ready: 0, inFlight: 0 }]);
    expect(await transport.pull({ domain, priority: 'normal' }, 10, { leaseMs: 1_000, waitMs: 0 })).toEqual([]);
  });
});
