import { Logger } from '@nestjs/common';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { natsBroker, rabbitmqBroker, testNamespace } from '../harness';
import { failoverOn, outboxDir, unreachable } from './support/parts';
import { purgeNamespace } from './support/purge-namespace';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;

describe('failover start-up with a broker down', () => {
  const namespace = testNamespace();
  const opened: FailoverTransport[] = [];
  let dir: string;
  beforeEach(() => {
    dir = outboxDir();
  });
  const open = async (transport: FailoverTransport): Promise<FailoverTransport> => {
    opened.push(transport);
    await transport.connect();
    return transport;
  };
  beforeAll(() => Logger.overrideLogger(['error']));
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => purgeNamespace(namespace, [QUEUE.domain]));

  it('starts on NATS when RabbitMQ is unreachable, and names the missing fallback in its status', async () => {
    const transport = await open(failoverOn({ nats: natsBroker().url, rabbitmq: await unreachable('amqp'), outboxPath: join(dir, 'outbox.db') }, namespace, contractSettings()));
    const item = makeItem();

    const receipt = await transport.publish(item);
    const [delivery] = await pullExactly(transport, QUEUE, 1);
    await transport.ack(delivery);

    expect(transport.currentStatus).toMatchObject({ state: 'up', active: 'nats', detail: expect.stringMatching(/^fallback rabbitmq unavailable/) });
    expect(receipt).toEqual({ id: item.id, broker: 'nats', duplicate: false });
    expect(delivery.lease.startsWith('nats:')).toBe(true);
  });

  it('starts degraded on RabbitMQ when NATS is unreachable, and settles what RabbitMQ delivered', async () => {
    const transport = await open(failoverOn({ nats: await unreachable('nats'), rabbitmq: rabbitmqBroker().url, outboxPath: join(dir, 'outbox.db') }, namespace, contractSettings()));
    const item = makeItem();

    const receipt = await transport.publish(item);
    const [delivery] = await pullExactly(transport, QUEUE, 1);
    await transport.ack(delivery);

    expect(transport.currentStatus).toMatchObject({ state: 'degraded', active: 'rabbitmq' });
    expect(receipt).toEqual({ id: item.id, broker: 'rabbitmq', duplicate: false });
    expect(delivery.lease.startsWith('rabbitmq:')).toBe(true);
    expect((await transport.depth()).filter((row) => row.domain === QUEUE.domain)).toEqual([{ broker: 'rabbitmq', priority: 'normal', domain: 'orders', ready: 0, inFlight: 0 }]);
  });

  it('starts on the outbox alone, keeps publishes there, and refuses pulls with BrokerUnavailableError', async () => {
    const transport = await open(failoverOn({ nats: await unreachable('nats'), rabbitmq: await unreachable('amqp'), outboxPath: join(dir, 'outbox.db') }, namespace, contractSettings()));
    const item = makeItem();

    const receipt = await transport.publish(item);
    const pulling = transport.pull(QUEUE, 1, { leaseMs: 1_000, waitMs: 0 });

    await expect(pulling).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(transport.currentStatus).toMatchObject({ state: 'degraded', active: 'outbox' });
    expect(receipt).toEqual({ id: item.id, broker: 'outbox', duplicate: false });
    expect(await transport.depth()).toEqual([{ broker: 'outbox', priority: 'normal', domain: 'orders', ready: 1, inFlight: 0 }]);
    expect(transport.stats).toMatchObject({ outboxSize: 1, published: { nats: 0, rabbitmq: 0, outbox: 1 }, available: [] });
  });

  it('refuses to start with nowhere to publish, naming each failure', async () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const transport = failoverOn({ nats: await unreachable('nats'), rabbitmq: await unreachable('amqp'), outboxPath: join(notADirectory, 'outbox.db') }, namespace, contractSettings());
    opened.push(transport);

    const connecting = transport.connect();

    await expect(connecting).rejects.toThrow(/nowhere to publish: nats: .*; rabbitmq: .*; outbox: .*a-file\/outbox\.db/);
    expect(transport.currentStatus.state).toBe('down');
  });
});
