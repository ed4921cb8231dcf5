import { Registry } from 'prom-client';
import { KanbanEvents } from '../../libs/kanban/src/events';
import { resolveKanbanOptions } from '../../libs/kanban/src/kanban-options';
import { KanbanMetrics } from '../../libs/kanban/src/metrics';
import { KanbanQueue } from '../../libs/kanban/src/queue';
import { SettleRelay } from '../../libs/kanban/src/relay';
import { contractSettings, eventually, makeItem } from '../contract/contract-helpers';
import { createFailoverHarness } from './failover-harness';

const DOMAIN = 'orders';

/**
 * An item left on RabbitMQ (published there while NATS was out) is delivered by RabbitMQ after
 * NATS took publishes back: its ack and dead letter count for RabbitMQ, not for the active broker.
 */
describe('failover metric labels name the delivering broker', () => {
  const harness = createFailoverHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('labels the ack and the dead letter of items RabbitMQ delivers while NATS is active with rabbitmq', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const metrics = new KanbanMetrics(new Registry());
    const queue = new KanbanQueue(transport, resolveKanbanOptions({ maxAttempts: 3 }), metrics, new KanbanEvents(), new SettleRelay(transport));
    const leftOnFallback = [makeItem({ payload: 'acked' }), makeItem({ payload: 'nacked' })];
    for (const item of leftOnFallback) await harness.partsOf(transport).rabbitmq.publish(item);
    const deliveries = await eventually('both items from RabbitMQ', async () => {
      const pulled = await queue.pull({ domain: DOMAIN, priority: 'normal', max: 2, waitMs: 200 });
      return pulled.length === 2 ? pulled : undefined;
    });

    // Act
    await queue.ack(deliveries[0].id, DOMAIN, deliveries[0].lease);
    await queue.nack(deliveries[1].id, DOMAIN, deliveries[1].lease, 'customer cancelled');

    // Assert
    expect(transport.currentStatus.active).toBe('nats');
    expect((await metrics.acked.get()).values.map((v) => [v.labels.broker, v.value])).toEqual([['rabbitmq', 1]]);
    expect((await metrics.deadLettered.get()).values.map((v) => [v.labels.broker, v.labels.reason, v.value])).toEqual([['rabbitmq', 'nack', 1]]);
  });
});
