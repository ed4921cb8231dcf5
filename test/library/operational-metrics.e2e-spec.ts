import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler, KanbanNack, LeaseExpiredError, KANBAN_METRICS_REGISTRY } from '@tps/kanban';
import type { Registry } from 'prom-client';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const RECEIPTS = namespace.domain('receipts');
const IDLE = namespace.domain('idle');
/** Short enough that a lapsed lease is seen within a test, long enough for a no-op handler. */
const PROCESS_TIMEOUT_MS = 300;

type ReceiptPayload = { outcome: 'ok' | 'fail-once' | 'nack'; n: number };

@Injectable()
class ReceiptConsumer {
  private readonly failed = new Set<number>();

  @KanbanHandler({ priority: 'high', domain: RECEIPTS })
  handle(@Payload() payload: ReceiptPayload) {
    if (payload.outcome === 'nack') throw new KanbanNack('receipt refused');
    if (payload.outcome === 'fail-once' && !this.failed.has(payload.n)) {
      this.failed.add(payload.n);
      throw new Error('receipt printer jammed');
    }
  }
}

describe('operational metrics beyond the spec eight (embedded)', () => {
  let app: KanbanTestApp;
  let registry: Registry;

  beforeAll(async () => {
    app = await createKanbanTestApp({
      providers: [ReceiptConsumer],
      options: { maxWorkers: 1, autoscale: false, coordinatorCheckIntervalMs: 60_000, workerProcessTimeoutMs: PROCESS_TIMEOUT_MS, retryBackoffMs: [10] },
    });
    registry = app.module.get<Registry>(KANBAN_METRICS_REGISTRY);
  });
  afterAll(() => app.close());

  const sample = async (name: string, labels: string): Promise<number | undefined> => {
    const line = (await registry.metrics()).split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('counts each retry the queue decides and times every handler run by its outcome', async () => {
    // Arrange
    const payloads: ReceiptPayload[] = [
      { outcome: 'ok', n: 1 },
      { outcome: 'fail-once', n: 2 },
      { outcome: 'nack', n: 3 },
    ];

    // Act
    for (const payload of payloads) await app.queue.publish({ priority: 'high', domain: RECEIPTS, payload, deadline: inFuture() });
    await waitFor(
      async () => {
        const totals = await app.queue.getMetrics();
        return totals.acked === 2 && totals.deadLettered === 1;
      },
      { timeoutMs: 10_000, description: 'two acks and one dead letter' },
    );

    // Assert
    expect(await sample('kanban_retries_total', `priority="high",domain="${RECEIPTS}",broker="embedded"`)).toBe(1);
    expect(await sample('kanban_handler_duration_seconds_count', `priority="high",domain="${RECEIPTS}",outcome="ok"`)).toBe(2);
    expect(await sample('kanban_handler_duration_seconds_count', `priority="high",domain="${RECEIPTS}",outcome="error"`)).toBe(1);
    expect(await sample('kanban_handler_duration_seconds_count', `priority="high",domain="${RECEIPTS}",outcome="nack"`)).toBe(1);
    expect(await sample('kanban_handler_duration_seconds_bucket', `le="+Inf",priority="high",domain="${RECEIPTS}",outcome="ok"`)).toBe(2);
  });

  it('counts a settle refused because its lease lapsed', async () => {
    // Arrange
    await app.queue.publish({ priority: 'normal', domain: IDLE, payload: {}, deadline: inFuture() });
    const [first] = await app.queue.pull({ priority: 'normal', domain: IDLE, max: 1 });
    const [again] = await waitFor(
      async () => {
        const pulled = await app.queue.pull({ priority: 'normal', domain: IDLE, max: 1 });
        return pulled.length > 0 ? pulled : undefined;
      },
      { timeoutMs: 10_000, description: 'the item handed out again once its lease lapsed' },
    );

    // Act
    const refused = await app.queue.ack(first.item.id, IDLE, first.lease).catch((error: unknown) => error);
    await app.queue.ack(again.item.id, IDLE, again.lease);

    // Assert
    expect(refused).toBeInstanceOf(LeaseExpiredError);
    expect(await sample('kanban_lease_expiries_total', `priority="normal",domain="${IDLE}",broker="embedded"`)).toBe(1);
  });
});
