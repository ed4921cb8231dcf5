import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BrokerBlockedError, BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { KanbanTransport } from '../../libs/kanban/src/transport';
import { FailoverTransport, OutboxStore } from '../../libs/kanban/src/transports/failover';
import { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { LONG_LEASE_MS, contractSettings, depthOf, makeItem, publishAll } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { rabbitmqctl } from '../harness/local-rabbitmq';
import { createNatsHarness } from '../nats/nats-harness';
import { privateRabbitMqNode, type PrivateRabbitMqNode } from './support/private-rabbitmq-node';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
const PUBLISH_TIMEOUT_MS = 1_000;
/** Credit of a queue's consumer is workerPullSize × 10 = 20: draining 50 items needs the broker to take acks. */
const PULL_SIZE = 2;
const HELD = 50;
const RABBITMQCTL_TIMEOUT_MS = 30_000;
/** Memory limit far below what any node uses: the memory alarm goes off at once. */
const ALARMING_WATERMARK = '0.0000001';
/** RabbitMQ's default. */
const NORMAL_WATERMARK = '0.4';
const MAX_DRAIN_ROUNDS = 500;

async function setWatermark(node: PrivateRabbitMqNode, fraction: string): Promise<void> {
  const code = await rabbitmqctl(node, ['set_vm_memory_high_watermark', fraction], RABBITMQCTL_TIMEOUT_MS);
  if (code !== 0) throw new Error(`rabbitmqctl set_vm_memory_high_watermark ${fraction} exited with ${code}`);
}

/** Pulls and acks until a pull waits in vain; returns the ids acked. */
async function drain(transport: KanbanTransport): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < MAX_DRAIN_ROUNDS; round++) {
    const batch = await transport.pull(QUEUE, PULL_SIZE, { leaseMs: LONG_LEASE_MS, waitMs: 2_000 });
    if (batch.length === 0) return ids;
    for (const delivery of batch) await transport.ack(delivery);
    ids.push(...batch.map((delivery) => delivery.id));
  }
  throw new Error(`queue not drained after ${MAX_DRAIN_ROUNDS} pulls`);
}

/**
 * A memory or disk alarm makes RabbitMQ stop reading from connections that publish. Draining is
 * what clears it, so publishes are refused at once with a typed error (and go to the other broker
 * under failover) while pulls and acks go on until the queue is empty.
 */
describe('RabbitMQ resource alarm', () => {
  const node = privateRabbitMqNode();
  const nats = createNatsHarness();
  const dir = mkdtempSync(join(tmpdir(), 'kanban-alarm-'));
  const opened: KanbanTransport[] = [];

  const rabbitOn = (local: PrivateRabbitMqNode): RabbitMqTransport => {
    const transport = new RabbitMqTransport(
      { url: `amqp://guest:guest@127.0.0.1:${local.port}`, queuePrefix: testNamespace().queuePrefix, publishTimeoutMs: PUBLISH_TIMEOUT_MS },
      contractSettings({ workerPullSize: PULL_SIZE }),
    );
    opened.push(transport);
    return transport;
  };

  afterEach(async () => {
    await setWatermark(node(), NORMAL_WATERMARK);
    for (const transport of opened.splice(0)) await transport.close();
    await nats.cleanup();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses publishes with BrokerBlockedError at once while pulls and acks drain the queue', async () => {
    // Arrange
    const transport = rabbitOn(node());
    await transport.connect();
    const items = Array.from({ length: HELD }, (_, n) => makeItem({ payload: { n } }));
    await publishAll(transport, items);
    await setWatermark(node(), ALARMING_WATERMARK);
    const unknown = makeItem();
    const firstRefusal = await transport.publish(unknown).catch((error: unknown) => error);
    const blocked = await waitFor(() => (transport.currentStatus.state === 'degraded' ? transport.currentStatus : undefined), {
      timeoutMs: 10_000,
      intervalMs: 10,
      description: 'the transport to report the alarm',
    });

    // Act
    const startedAt = performance.now();
    const laterRefusal = await transport.publish(makeItem()).catch((error: unknown) => error);
    const refusedMs = performance.now() - startedAt;
    const drained = await drain(transport);
    const depth = await depthOf(transport, 'normal', 'orders');

    // Assert
    expect(firstRefusal).toBeInstanceOf(BrokerUnavailableError);
    expect(blocked).toMatchObject({ active: 'none' });
    expect(blocked.detail).toContain('blocked');
    expect(laterRefusal).toBeInstanceOf(BrokerBlockedError);
    expect(refusedMs).toBeLessThan(PUBLISH_TIMEOUT_MS);
    // The first refused publish may have been stored before the broker stopped reading (outcome unknown).
    expect(drained.filter((id) => id !== unknown.id).sort()).toEqual(items.map((item) => item.id).sort());
    expect(depth).toEqual({ ready: 0, inFlight: 0 });
  }, 120_000);

  it('takes publishes back once the alarm clears', async () => {
    // Arrange
    const transport = rabbitOn(node());
    await transport.connect();
    await setWatermark(node(), ALARMING_WATERMARK);
    await transport.publish(makeItem()).catch(() => undefined);
    await waitFor(() => transport.currentStatus.state === 'degraded', { timeoutMs: 10_000, intervalMs: 10, description: 'the transport to report the alarm' });

    // Act
    await setWatermark(node(), NORMAL_WATERMARK);
    await waitFor(() => transport.currentStatus.state === 'up', { timeoutMs: 10_000, intervalMs: 10, description: 'the alarm to clear' });
    const item = makeItem();
    const receipt = await transport.publish(item);

    // Assert
    expect(receipt).toEqual({ id: item.id, broker: 'rabbitmq', duplicate: false });
    expect(transport.currentStatus).toEqual({ state: 'up', active: 'rabbitmq' });
  }, 120_000);

  it('under failover sends publishes to NATS and keeps draining RabbitMQ', async () => {
    // Arrange
    const settings = contractSettings({ workerPullSize: PULL_SIZE });
    const rabbitmq = rabbitOn(node());
    const failover = new FailoverTransport(await nats.create(settings), rabbitmq, new OutboxStore({ path: join(dir, `${testNamespace().queuePrefix}.db`) }));
    opened.push(failover);
    await failover.connect();
    const held = Array.from({ length: HELD }, (_, n) => makeItem({ payload: { n } }));
    // What RabbitMQ took while NATS was away.
    await publishAll(rabbitmq, held);
    await setWatermark(node(), ALARMING_WATERMARK);
    const unknown = makeItem();
    await rabbitmq.publish(unknown).catch(() => undefined);
    await waitFor(() => rabbitmq.currentStatus.state === 'degraded', { timeoutMs: 10_000, intervalMs: 10, description: 'RabbitMQ to report the alarm' });

    // Act
    const item = makeItem();
    const receipt = await failover.publish(item);
    const drained = await drain(failover);
    const rabbitDepth = await depthOf(rabbitmq, 'normal', 'orders');

    // Assert
    expect(receipt).toEqual({ id: item.id, broker: 'nats', duplicate: false });
    expect(drained.filter((id) => id !== unknown.id).sort()).toEqual([...held, item].map((one) => one.id).sort());
    expect(rabbitDepth).toEqual({ ready: 0, inFlight: 0 });
  }, 120_000);
});
