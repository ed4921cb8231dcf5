import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const GATEWAY = namespace.domain('gateway');

let failing = true;
let calls = 0;

@Injectable()
class GatewayConsumer {
  @KanbanHandler({ priority: 'high', domain: GATEWAY })
  handle(@Payload() _payload: unknown) {
    calls++;
    if (failing) throw new Error('payment gateway timeout');
  }
}

describe.each(TRANSPORTS)('circuit breaker (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    failing = true;
    calls = 0;
    app = await createKanbanTestApp({ transport,
      providers: [GatewayConsumer],
      options: { workerPullSize: 5, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('opens after 3 consecutive failures, returns unstarted items, raises the metric and an ALERT', async () => {
    // Arrange
    await app.pool.stop(GATEWAY, 'high');
    for (let i = 0; i < 5; i++) await app.queue.publish({ priority: 'high', domain: GATEWAY, payload: i, deadline: inFuture() });

    // Act
    app.pool.start(GATEWAY, 'high');
    const worker = await waitFor(() => app.pool.status().find((w) => w.state === 'open'), { timeoutMs: 10_000, description: 'breaker open' });

    // Assert
    expect(calls).toBe(3);
    expect(worker).toMatchObject({ consecutiveFailures: 3, inFlight: 0 });
    const [depth] = await app.queue.depth();
    // On NATS an item waiting out its nak delay still counts as ack-pending, so only the total is common ground.
    expect(depth.ready + depth.inFlight).toBe(5);
    const gauge = (await app.metrics.circuitBreakerOpen.get()).values.find((v) => v.labels.worker === worker.id);
    expect(gauge?.value).toBe(1);
    expect(app.logs.filter((l) => l.includes('ALERT circuit breaker open'))).toHaveLength(1);
    expect(app.coordinator.getHealth().open_circuit_breakers).toBe(1);
  });

  it('stays open (no more pulls) until restarted, then processes the backlog', async () => {
    // Arrange
    const callsWhileOpen = calls;
    failing = false;

    // Act
    await app.coordinator.adjustWorkers(1);
    await waitFor(async () => (await app.queue.getMetrics()).acked === 2, { timeoutMs: 10_000, description: 'the 2 returned items acked' });

    // Assert
    expect(callsWhileOpen).toBe(3);
    expect(app.pool.status().every((w) => w.state === 'running')).toBe(true);
    const gauge = (await app.metrics.circuitBreakerOpen.get()).values.filter((v) => v.value === 1);
    expect(gauge).toEqual([]);
  });
});
