import { Logger } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import type { LocalBrokerState } from '../harness/broker-state';
import { relaunchLocalNats, startLocalNats } from '../harness/local-nats';
import { terminate } from '../harness/local-process';
import { failoverOn, outboxDir, unreachable } from './support/parts';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
/** The reconnect interval of a never-connected broker plus three probes, with room for a loaded machine. */
const RECOVERY_TIMEOUT_MS = 20_000;

/** A NATS server of its own, so stopping it touches no other suite. */
describe('failover outbox forwarding', () => {
  let nats: (LocalBrokerState & { port: number }) | undefined;
  let transport: FailoverTransport | undefined;
  const dir = outboxDir();
  beforeAll(() => Logger.overrideLogger(['error']));
  afterEach(async () => {
    await transport?.close();
    if (nats) {
      await terminate(nats.pid);
      rmSync(nats.baseDir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards the outbox in publish order to the primary once it comes up, then publishes to it', async () => {
    // Arrange
    nats = await startLocalNats({ dirPrefix: 'tps-kanban-nats-outbox-' });
    await terminate(nats.pid);
    transport = failoverOn({ nats: `nats://127.0.0.1:${nats.port}`, rabbitmq: await unreachable('amqp'), outboxPath: join(dir, 'outbox.db') }, testNamespace(), contractSettings());
    await transport.connect();
    const items = Array.from({ length: 20 }, (_, n) => makeItem({ payload: { n } }));
    const receipts = [];
    for (const item of items) receipts.push(await transport.publish(item));

    // Act
    nats.pid = await relaunchLocalNats(nats);
    const running = transport;
    await waitFor(() => running.stats.outboxSize === 0 && running.currentStatus.active === 'nats', { timeoutMs: RECOVERY_TIMEOUT_MS, description: 'the outbox forwarded to NATS' });
    const forwarded = await pullExactly(transport, QUEUE, items.length);
    const after = await transport.publish(makeItem());

    // Assert
    expect(receipts.map((receipt) => receipt.broker)).toEqual(items.map(() => 'outbox'));
    expect(forwarded.map((delivery) => delivery.id)).toEqual(items.map((item) => item.id));
    expect(after.broker).toBe('nats');
    expect(transport.stats).toMatchObject({ forwarded: items.length, outboxSize: 0, published: { nats: items.length + 1, outbox: items.length } });
  });
});
