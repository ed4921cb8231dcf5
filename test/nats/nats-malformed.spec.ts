import { jetstream } from '@nats-io/jetstream';
import { isMalformed, type TransportDelivery } from '../../libs/kanban/src/interfaces';
import { contractSettings, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
import { waitFor } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const DOMAIN = 'payment';
const GOOD_ITEMS = 20;
const GARBAGE = [Buffer.from('not json at all'), Buffer.from([0xc3, 0x28, 0xa0]), Buffer.from('{"id":"x"}'), Buffer.alloc(0)];

describe('NATS: garbage from a foreign publisher on kanban.high.payment', () => {
  afterEach(() => harness.cleanup());

  it('comes back as malformed and is dead-lettered while the good items around it are processed', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    await transport.ensureQueue('high', DOMAIN);
    const foreign = jetstream(await harness.rawClient());
    const good = Array.from({ length: GOOD_ITEMS }, (_, n) => makeItem({ priority: 'high', domain: DOMAIN, payload: { n } }));
    for (let n = 0; n < GOOD_ITEMS; n++) {
      await transport.publish(good[n]);
      if (n % 5 === 0) await foreign.publish(`kanban.high.${DOMAIN}`, GARBAGE[(n / 5) % GARBAGE.length]);
    }
    const processed: string[] = [];
    const malformed: TransportDelivery[] = [];

    // Act
    await waitFor(
      async () => {
        for (const delivery of await transport.pull({ domain: DOMAIN }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 200 })) {
          if (isMalformed(delivery)) {
            malformed.push(delivery);
            await transport.deadLetter(delivery, 'malformed', delivery.error);
          } else {
            processed.push(delivery.id);
            await transport.ack(delivery);
          }
        }
        return processed.length + malformed.length >= GOOD_ITEMS + GARBAGE.length;
      },
      { timeoutMs: 20_000, intervalMs: 0, description: 'every good item and every garbage message handled' },
    );

    // Assert
    const deadLetters = (await transport.listDeadLetters({ domain: DOMAIN, reason: 'malformed' })).items;
    expect(processed).toEqual(good.map((item) => item.id));
    expect(malformed).toHaveLength(GARBAGE.length);
    expect(deadLetters.map((d) => d.raw).sort()).toEqual(GARBAGE.map((bytes) => bytes.toString('base64')).sort());
    expect(deadLetters.every((d) => d.item === undefined && d.priority === 'high')).toBe(true);
    expect(await transport.pull({ domain: DOMAIN }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 })).toEqual([]);
  });
});
