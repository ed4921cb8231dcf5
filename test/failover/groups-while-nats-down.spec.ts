import { Logger } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { TransportDelivery } from '../../libs/kanban/src/interfaces';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { EVENTUALLY_MS, LONG_LEASE_MS, contractSettings, makeItem, publishAll } from '../contract/contract-helpers';
import { natsBroker, rabbitmqBroker, testNamespace } from '../harness';
import { failoverOn, outboxDir, unreachable } from './support/parts';
import { purgeNamespace } from './support/purge-namespace';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
/** Far below a hung broker call, far above a refusal. */
const PROMPT_MS = 1_000;
const PULL_SIZE = 5;
/** Long enough to see that no more items come. */
const QUIET_MS = 1_500;

async function refusal(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await call();
    return { error: 'answered', ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

function groupOf(delivery: TransportDelivery): string | undefined {
  return 'item' in delivery ? delivery.item.group : undefined;
}

/** Pulls without settling until nothing more comes for QUIET_MS; what it holds. */
async function leaseAll(transport: FailoverTransport): Promise<TransportDelivery[]> {
  const held: TransportDelivery[] = [];
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_MS) {
    const batch = await transport.pull(QUEUE, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 100 });
    if (batch.length > 0) quietSince = performance.now();
    held.push(...batch);
  }
  return held;
}

describe('groups on failover while NATS is down', () => {
  const namespace = testNamespace();
  const dirs: string[] = [];
  const transports: FailoverTransport[] = [];
  const settings = contractSettings({ workerPullSize: PULL_SIZE, groups: { window: PULL_SIZE, metrics: false, domains: {} } });

  async function open(nats: string): Promise<FailoverTransport> {
    const dir = outboxDir();
    dirs.push(dir);
    const transport = failoverOn({ nats, rabbitmq: rabbitmqBroker().url, outboxPath: join(dir, 'outbox.db') }, namespace, settings);
    transports.push(transport);
    await transport.connect();
    return transport;
  }

  beforeAll(() => {
    Logger.overrideLogger(['error']);
  });

  afterEach(async () => {
    for (const transport of transports.splice(0)) await transport.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await purgeNamespace(namespace, [QUEUE.domain]);
  });

  it('hands grouped items out fairly on RabbitMQ, lists the groups from it, and refuses a limit change at once, naming NATS', async () => {
    // Arrange
    const transport = await open(await unreachable('nats'));
    const heavy = Array.from({ length: 30 }, (_, n) => makeItem({ group: 'heavy', payload: { n } }));
    const light = Array.from({ length: 3 }, (_, n) => makeItem({ group: 'light', payload: { n } }));
    const receipts = [];
    for (const item of [...heavy, ...light]) receipts.push(await transport.publish(item));

    // Act
    const order: TransportDelivery[] = [];
    const deadline = performance.now() + EVENTUALLY_MS * 3;
    let listing: Awaited<ReturnType<FailoverTransport['listGroups']>> | undefined;
    while (order.length < heavy.length + light.length && performance.now() < deadline) {
      const batch = await transport.pull(QUEUE, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
      listing ??= batch.length > 0 ? await transport.listGroups(QUEUE.domain, {}) : undefined;
      order.push(...batch);
      for (const delivery of batch) await transport.ack(delivery);
    }
    const limits = await refusal(() => transport.setGroupLimits(QUEUE.domain, 'light', { maxInFlight: 1 }));

    // Assert: the light items are out within two groups' pulls, not behind 30 heavy ones
    expect(new Set(receipts.map((receipt) => receipt.broker))).toEqual(new Set(['rabbitmq']));
    expect(new Set(order.map((d) => d.id)).size).toBe(heavy.length + light.length);
    const lastLight = Math.max(...order.map((d, position) => (groupOf(d) === 'light' ? position : -1)));
    expect(lastLight).toBeLessThan(3 * PULL_SIZE);
    expect(listing?.items.map((state) => state.group)).toEqual(['heavy', 'light']);
    expect(limits.error).toBeInstanceOf(BrokerUnavailableError);
    expect((limits.error as Error).message).toMatch(/nats/);
    expect(limits.ms).toBeLessThan(PROMPT_MS);
  });

  it('holds on RabbitMQ, while NATS is down, a group limit set while both brokers were up', async () => {
    // Arrange: the limit is set through an instance with both brokers up
    const bothUp = await open(natsBroker().url);
    await bothUp.setGroupLimits(QUEUE.domain, 'capped', { maxInFlight: 2 });
    const natsDown = await open(await unreachable('nats'));
    await publishAll(
      natsDown,
      Array.from({ length: 6 }, (_, n) => makeItem({ group: 'capped', payload: { n } })),
    );

    // Act
    const held = await leaseAll(natsDown);
    const listing = await natsDown.listGroups(QUEUE.domain, {});

    // Assert
    expect(held.map(groupOf)).toEqual(['capped', 'capped']);
    expect(listing.items).toEqual([{ group: 'capped', ready: 4, inFlight: 2, limits: { maxInFlight: 2 }, override: { maxInFlight: 2 } }]);
  });
});
