import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler, KanbanNack, KANBAN_METRICS_REGISTRY } from '@tps/kanban';
import type { Registry } from 'prom-client';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const INVOICE = namespace.domain('invoice');

@Injectable()
class InvoiceConsumer {
  @KanbanHandler({ priority: 'high', domain: INVOICE })
  handle(@Payload() payload: { ok: boolean }) {
    if (!payload.ok) throw new KanbanNack('invoice rejected');
  }
}

describe.each(TRANSPORTS)('metrics after a scenario (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({ transport, providers: [InvoiceConsumer], options: { maxWorkers: 1, autoscale: false, coordinatorCheckIntervalMs: 60_000 } });
  });
  afterAll(() => app.close());

  it('counts published, acked and dead-lettered items and exposes the eight spec metrics', async () => {
    // Arrange
    const payloads = [true, true, false, true, true].map((ok) => ({ ok }));

    // Act
    for (const payload of payloads) await app.queue.publish({ priority: 'high', domain: INVOICE, payload, deadline: inFuture() });
    await waitFor(async () => (await app.queue.getMetrics()).acked + (await app.queue.getMetrics()).deadLettered === 5, { timeoutMs: 10_000, description: 'all settled' });
    await app.coordinator.check();

    // Assert
    expect(await app.queue.getMetrics()).toEqual({ published: 5, acked: 4, deadLettered: 1 });
    const registry = app.module.get<Registry>(KANBAN_METRICS_REGISTRY);
    const text = await registry.metrics();
    for (const name of [
      'kanban_queue_depth',
      'kanban_current_workers',
      'kanban_queue_depth_avg',
      'kanban_latency_seconds',
      'kanban_published_total',
      'kanban_acked_total',
      'kanban_dead_lettered_total',
      'kanban_circuit_breaker_open',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain(`kanban_published_total{priority="high",domain="${INVOICE}",broker="${app.kind}"} 5`);
    expect(text).toContain(`kanban_acked_total{priority="high",domain="${INVOICE}",broker="${app.kind}"} 4`);
    expect(text).toContain(`kanban_dead_lettered_total{priority="high",domain="${INVOICE}",broker="${app.kind}",reason="nack"} 1`);
    expect(text).toContain(`kanban_latency_seconds_count{priority="high",domain="${INVOICE}",broker="${app.kind}"} 4`);
    expect(text).not.toContain('kanban_latency_ms');
    expect(text).toContain(`kanban_current_workers{priority="high",domain="${INVOICE}"} 1`);
    expect(text).toContain(`kanban_queue_depth{priority="high",domain="${INVOICE}",broker="${app.kind}"} 0`);
    expect(text).toContain(`kanban_circuit_breaker_open{priority="high",domain="${INVOICE}",worker="kanban.high.${INVOICE}#1"} 0`);
    expect(text).toContain(`kanban_active_broker{broker="${app.kind}"} 1`);
  });
});
