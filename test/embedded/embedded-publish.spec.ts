import { BrokerUnavailableError, QueueFullError } from '../../libs/kanban/src/errors';
import { contractSettings, depthOf, letTimePass, makeItem, pullExactly } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();
const QUEUE = { domain: 'orders', priority: 'normal' } as const;

describe('embedded publish', () => {
  afterEach(() => harness.cleanup());

  it('commits a burst of concurrent publishes and resolves each with its own id', async () => {
    const transport = await harness.create(contractSettings());
    const items = Array.from({ length: 1_000 }, (_, n) => makeItem({ payload: { n } }));

    const receipts = await Promise.all(items.map((item) => transport.publish(item)));

    expect(receipts.map((r) => r.id)).toEqual(items.map((i) => i.id));
    const reopened = await harness.reopen(transport, contractSettings());
    expect(await depthOf(reopened, 'normal', 'orders')).toEqual({ ready: 1_000, inFlight: 0 });
  });

  it('fails only the publishes over the limit when they share a commit with accepted ones', async () => {
    const transport = await harness.create(contractSettings({ maxQueueDepth: 3 }));

    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => transport.publish(makeItem())));

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    for (const outcome of outcomes.slice(3)) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 3, inFlight: 0 });
  });

  it('counts in-flight items against maxQueueDepth', async () => {
    const transport = await harness.create(contractSettings({ maxQueueDepth: 2 }));
    await transport.publish(makeItem());
    await transport.publish(makeItem());
    await pullExactly(transport, QUEUE, 2);

    const overflow = transport.publish(makeItem());

    await expect(overflow).rejects.toMatchObject({ name: 'QueueFullError', queue: 'kanban.normal.orders' });
  });

  it('folds same-key publishes in one commit into one item', async () => {
    const transport = await harness.create(contractSettings());
    const items = [makeItem({ idempotencyKey: 'k' }), makeItem({ idempotencyKey: 'k' }), makeItem({ idempotencyKey: 'k' })];

    const receipts = await Promise.all(items.map((item) => transport.publish(item)));

    expect(receipts.map((r) => [r.id, r.duplicate])).toEqual([
      [items[0].id, false],
      [items[0].id, true],
      [items[0].id, true],
    ]);
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 1, inFlight: 0 });
  });

  it('takes a known key as a new item once the dedup window has passed', async () => {
    const dedupWindowMs = 200;
    const transport = await harness.create(contractSettings({ dedupWindowMs }));
    await transport.publish(makeItem({ idempotencyKey: 'k' }));
    await letTimePass(dedupWindowMs * 2);
    const later = makeItem({ idempotencyKey: 'k' });

    const receipt = await transport.publish(later);

    expect(receipt).toEqual({ id: later.id, broker: 'embedded', duplicate: false });
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 2, inFlight: 0 });
  });

  it('rejects publishes after close with BrokerUnavailableError', async () => {
    const transport = await harness.create(contractSettings());
    await transport.close();

    await expect(transport.publish(makeItem())).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('commits publishes queued before close', async () => {
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const item = makeItem();
    const publishing = transport.publish(item);

    await transport.close();

    await expect(publishing).resolves.toEqual({ id: item.id, broker: 'embedded', duplicate: false });
    const reopened = await harness.reopen(transport, settings);
    expect(await depthOf(reopened, 'normal', 'orders')).toEqual({ ready: 1, inFlight: 0 });
  });
});
