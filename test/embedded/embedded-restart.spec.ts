import { LONG_LEASE_MS, contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { isMalformed, type TransportDelivery } from '../../libs/kanban/src/interfaces';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();
const QUEUE = { domain: 'orders', priority: 'normal' } as const;

function attemptsOf(delivery: TransportDelivery): number {
  return isMalformed(delivery) ? delivery.attempts : delivery.item.attempts;
}

// Holds are measured on the monotonic clock of the instance that wrote them, which a new instance cannot read.
describe('embedded store reopened after a restart', () => {
  afterEach(() => harness.cleanup());

  it('makes a delivery leased before the restart available at once, as the next attempt', async () => {
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const item = makeItem();
    await transport.publish(item);
    const [before] = await pullExactly(transport, QUEUE, 1, { leaseMs: LONG_LEASE_MS });

    const reopened = await harness.reopen(transport, settings);
    const after = await reopened.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });

    expect(after.map((d) => [d.id, attemptsOf(d)])).toEqual([[item.id, 2]]);
    expect(after[0].lease).not.toBe(before.lease);
  });

  it('ends a retry delay that was running before the restart', async () => {
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const item = makeItem();
    await transport.publish(item);
    const [before] = await pullExactly(transport, QUEUE, 1);
    await transport.retry(before, 3_600_000);

    const reopened = await harness.reopen(transport, settings);
    const after = await reopened.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });

    expect(after.map((d) => [d.id, attemptsOf(d)])).toEqual([[item.id, 2]]);
  });

  it('sweeps as stalled a delivery that was on its last attempt when the process went away', async () => {
    const settings = contractSettings({ maxAttempts: 1 });
    const transport = await harness.create(settings);
    const item = makeItem();
    await transport.publish(item);
    await pullExactly(transport, QUEUE, 1, { leaseMs: LONG_LEASE_MS });

    const reopened = await harness.reopen(transport, settings);
    const pulled = await reopened.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    const depthBeforeSweep = await reopened.depth();
    const swept = await reopened.sweepStalled(LONG_LEASE_MS);

    expect(pulled).toEqual([]);
    expect(depthBeforeSweep).toEqual([{ broker: 'embedded', priority: 'normal', domain: 'orders', ready: 0, inFlight: 1 }]);
    expect(swept.map((d) => [d.id, d.reason, d.error])).toEqual([[item.id, 'stalled', 'lease lapsed on the last attempt (1 of 1)']]);
  });

  it('remembers idempotency keys across the restart', async () => {
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const first = makeItem({ idempotencyKey: 'invoice-9' });
    await transport.publish(first);

    const reopened = await harness.reopen(transport, settings);
    const receipt = await reopened.publish(makeItem({ idempotencyKey: 'invoice-9' }));

    expect(receipt).toEqual({ id: first.id, broker: 'embedded', duplicate: true });
  });
});
