import { ItemNotFoundError, LeaseExpiredError } from '../../libs/kanban/src/errors';
import { contractSettings, letTimePass, makeItem, pullExactly } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();
const QUEUE = { domain: 'orders', priority: 'normal' } as const;

describe('embedded settle fencing', () => {
  afterEach(() => harness.cleanup());

  it('throws ItemNotFoundError for an id it never held', async () => {
    const transport = await harness.create(contractSettings());
    const ref = { id: 'no-such-item', domain: 'orders', priority: 'normal', lease: 'x' } as const;

    await expect(transport.ack(ref)).rejects.toBeInstanceOf(ItemNotFoundError);
    await expect(transport.retry(ref, 0)).rejects.toBeInstanceOf(ItemNotFoundError);
    await expect(transport.extendLease(ref, 1_000)).rejects.toBeInstanceOf(ItemNotFoundError);
    await expect(transport.deadLetter(ref, 'nack')).rejects.toBeInstanceOf(ItemNotFoundError);
  });

  it('throws ItemNotFoundError when the domain does not match the item', async () => {
    const transport = await harness.create(contractSettings());
    await transport.publish(makeItem());
    const [delivery] = await pullExactly(transport, QUEUE, 1);

    await expect(transport.ack({ ...delivery, domain: 'billing' })).rejects.toBeInstanceOf(ItemNotFoundError);
    await transport.ack(delivery);
  });

  it('refuses a lapsed lease even when nobody else took the item, and hands the item out again', async () => {
    const transport = await harness.create(contractSettings());
    const item = makeItem();
    await transport.publish(item);
    const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: 1 });
    await letTimePass(20);

    const settling = transport.ack(delivery);

    await expect(settling).rejects.toBeInstanceOf(LeaseExpiredError);
    const [again] = await pullExactly(transport, QUEUE, 1);
    expect(again.id).toBe(item.id);
    await transport.ack(again);
  });

  it('refuses a second settle of a retried delivery', async () => {
    const transport = await harness.create(contractSettings());
    await transport.publish(makeItem());
    const [delivery] = await pullExactly(transport, QUEUE, 1);
    await transport.retry(delivery, 60_000);

    await expect(transport.retry(delivery, 0)).rejects.toBeInstanceOf(LeaseExpiredError);
    await expect(transport.ack(delivery)).rejects.toBeInstanceOf(LeaseExpiredError);
  });
});
