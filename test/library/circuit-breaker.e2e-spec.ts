import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from './support/kanban-test-app';

let failing = true;
let calls = 0;

@Injectable()
class GatewayConsumer {
  @KanbanHandler({ priority: 'high', domain: 'gateway' })
  handle(@Payload() _payload: unknown) {
    calls++;
    if (failing) throw new Error('payment gateway timeout');
  }
}

describe('circuit breaker', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({
      providers: [GatewayConsumer],
      options: { workerPullSize: 5, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('opens after 3 consecutive failures, returns unstarted items, raises the metric and an ALERT', async () => {
    // Arrange
    await app.pool.stop('gateway', 'high');
    for (let i = 0; i < 5; i++) await app.queue.publish({ priority: 'high', domain: 'gateway', payload: i, deadline: inFuture() });

    // Act
    app.pool.start('gateway', 'high');
    const worker = await waitFor(() => app.pool.status().find((w) => w.state === 'open'), { timeoutMs: 10_000, description: 'breaker open' });

    // Assert
    expect(calls).toBe(3);
    expect(worker).toMatchObject({ consecutiveFailures: 3, inFlight: 0 });
    const [depth] = await app.queue.depth();
    expect(depth.ready + depth.inFlight).toBe(5);
    expect(depth.inFlight).toBe(0);
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
