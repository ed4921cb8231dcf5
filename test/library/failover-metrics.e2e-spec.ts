import { rmSync } from 'node:fs';
import { KANBAN_METRICS_REGISTRY } from '@tps/kanban';
import type { Registry } from 'prom-client';
import { waitFor } from '../harness';
import type { LocalBrokerState } from '../harness/broker-state';
import { startLocalNats } from '../harness/local-nats';
import { terminate } from '../harness/local-process';
import { unreachable } from '../failover/support/parts';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const ORDERS = namespace.domain('orders');
/** A kill is seen when the connection drops; the bound leaves room for a loaded machine. */
const SWITCH_TIMEOUT_MS = 20_000;

/** A NATS server of its own (stopping it touches no other suite) and a RabbitMQ nobody listens for: after the kill, publishes go to the outbox. */
describe('failover metrics', () => {
  let nats: (LocalBrokerState & { port: number }) | undefined;
  let app: KanbanTestApp | undefined;

  afterAll(async () => {
    await app?.close();
    if (nats) {
      await terminate(nats.pid);
      rmSync(nats.baseDir, { recursive: true, force: true });
    }
  });

  it('counts the switch from NATS to the outbox and reports the items waiting in the outbox', async () => {
    // Arrange
    nats = await startLocalNats({ dirPrefix: 'tps-kanban-nats-metrics-' });
    app = await createKanbanTestApp({
      options: {
        nats: { servers: [`nats://127.0.0.1:${nats.port}`], streamPrefix: namespace.streamPrefix },
        rabbitmq: { url: await unreachable('amqp'), queuePrefix: namespace.queuePrefix },
        autoscale: false,
        coordinatorCheckIntervalMs: 60_000,
      },
    });
    const running = app;
    await waitFor(() => running.transport.currentStatus.active === 'nats', { timeoutMs: SWITCH_TIMEOUT_MS, description: 'publishing to NATS' });
    const registry = app.module.get<Registry>(KANBAN_METRICS_REGISTRY);

    // Act
    await terminate(nats.pid);
    await waitFor(() => running.transport.currentStatus.active === 'outbox', { timeoutMs: SWITCH_TIMEOUT_MS, description: 'publishing to the outbox' });
    const receipts = [];
    for (let n = 0; n < 3; n++) receipts.push(await app.queue.publish({ priority: 'normal', domain: ORDERS, payload: { n }, deadline: inFuture() }));
    // A round already running (its fleet refresh waits on the dead NATS) may have sampled before the publishes: the next one has them.
    const text = await waitFor(
      async () => {
        await running.coordinator.check();
        const scraped = await registry.metrics();
        return scraped.includes('kanban_outbox_items 3\n') ? scraped : undefined;
      },
      { timeoutMs: SWITCH_TIMEOUT_MS, description: 'a depth sample with the outbox items' },
    );

    // Assert
    expect(receipts.map((receipt) => receipt.broker)).toEqual(['outbox', 'outbox', 'outbox']);
    expect(text).toContain('kanban_failovers_total{from="nats",to="outbox"} 1\n');
    expect(text).toContain('kanban_outbox_items 3\n');
    expect(text).toContain('kanban_active_broker{broker="outbox"} 1\n');
  });
});
