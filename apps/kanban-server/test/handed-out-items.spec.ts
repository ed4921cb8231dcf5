import type { Delivery } from '@tps/kanban';
import { HANDED_OUT_MAX, HandedOutItems } from '../src/work/handed-out-items';

function delivery(lease: string, publishedAt: number, leaseExpiresAt: number): Delivery {
  return {
    id: lease,
    domain: 'orders',
    priority: 'normal',
    lease,
    leaseExpiresAt,
    item: { id: lease, priority: 'normal', domain: 'orders', payload: {}, deadline: leaseExpiresAt + 60_000, publishedAt, attempts: 1, headers: {} },
  };
}

describe('HandedOutItems', () => {
  it('gives an item’s publish time back once, for the lease it was handed out under', () => {
    const handedOut = new HandedOutItems();
    handedOut.record([delivery('a', 1_000, Date.now() + 30_000)]);

    expect(handedOut.take('a')).toBe(1_000);
    expect(handedOut.take('a')).toBeUndefined();
    expect(handedOut.take('never-handed-out')).toBeUndefined();
  });

  it('forgets hand-outs whose lease lapsed, and keeps an extended one until its new expiry', () => {
    const handedOut = new HandedOutItems();
    const now = Date.now();
    handedOut.record([delivery('lapsed', 1, now - 1), delivery('extended', 2, now - 1)]);
    handedOut.extend('extended', now + 30_000);

    handedOut.record([delivery('fresh', 3, now + 30_000)]);

    expect(handedOut.take('lapsed')).toBeUndefined();
    expect(handedOut.take('extended')).toBe(2);
    expect(handedOut.take('fresh')).toBe(3);
  });

  it(`holds at most ${HANDED_OUT_MAX} hand-outs, dropping the oldest`, () => {
    const handedOut = new HandedOutItems();
    const expiresAt = Date.now() + 60_000;
    const deliveries = Array.from({ length: HANDED_OUT_MAX + 5 }, (_, i) => delivery(`lease-${i}`, i, expiresAt));

    handedOut.record(deliveries);

    expect(handedOut.size).toBe(HANDED_OUT_MAX);
    expect(handedOut.take('lease-4')).toBeUndefined();
    expect(handedOut.take('lease-5')).toBe(5);
  });
});
