import { LONG_LEASE_MS, SHORT_LEASE_MS, contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();
const QUEUE = { domain: 'orders', priority: 'normal' } as const;
const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;

// The system clock cannot be moved from a test; moving Date.now shows that leases and delays
// never read it, which is what makes them immune to a real jump.
describe('embedded leases and delays under a wall-clock jump', () => {
  afterEach(async () => {
    jest.restoreAllMocks();
    await harness.cleanup();
  });

  it('keeps a lease when the wall clock jumps 30 days forward', async () => {
    const transport = await harness.create(contractSettings());
    await transport.publish(makeItem());
    const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: LONG_LEASE_MS });
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(realNow + THIRTY_DAYS_MS);

    const whileLeased = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    const swept = await transport.sweepStalled(60_000);

    expect(whileLeased).toEqual([]);
    expect(swept).toEqual([]);
    await transport.ack(delivery);
  });

  it('still lapses a lease on time when the wall clock stands still', async () => {
    const transport = await harness.create(contractSettings());
    await transport.publish(makeItem());
    jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    const [first] = await pullExactly(transport, QUEUE, 1, { leaseMs: SHORT_LEASE_MS });

    const [second] = await pullExactly(transport, QUEUE, 1, { waitMs: 5_000 });

    expect(second.id).toBe(first.id);
    expect(second.lease).not.toBe(first.lease);
  });

  it('ends a retry delay on time when the wall clock jumps an hour back', async () => {
    const transport = await harness.create(contractSettings());
    await transport.publish(makeItem());
    const [first] = await pullExactly(transport, QUEUE, 1);
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() - 3_600_000);

    await transport.retry(first, SHORT_LEASE_MS);
    const [second] = await pullExactly(transport, QUEUE, 1, { waitMs: 5_000 });

    expect(second.id).toBe(first.id);
  });
});
