import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { SpanKind, trace } from '@opentelemetry/api';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';
import { installInMemoryTracing, traceparentOf, type InMemoryTracing } from './support/in-memory-tracing';

const PAYMENTS = namespace.domain('payments');
const FLAKY = namespace.domain('flaky');
const INVOICES = namespace.domain('invoices');
const BATCH_SIZE = 3;
/** Active trace id seen inside each handler run, by item id. */
const seenTraceIds = new Map<string, string | undefined>();

@Injectable()
class PaymentConsumer {
  @KanbanHandler({ priority: 'normal', domain: PAYMENTS })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    seenTraceIds.set(context.getItem().id, trace.getActiveSpan()?.spanContext().traceId);
  }
}

/** Fails its first two attempts: three handler spans for one item. */
@Injectable()
class FlakyConsumer {
  @KanbanHandler({ priority: 'normal', domain: FLAKY, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    if (context.getAttempts() < 3) throw new Error(`attempt ${context.getAttempts()} failed`);
  }
}

@Injectable()
class InvoiceBatchConsumer {
  @KanbanHandler({ priority: 'normal', domain: INVOICES, batch: { max: BATCH_SIZE, waitMs: 1_000 } })
  handle(@Payload() _payloads: unknown[]) {}
}

describe.each(TRANSPORTS)('W3C trace context travels with each item (%s)', (transport) => {
  let tracing: InMemoryTracing;
  let app: KanbanTestApp;

  beforeAll(async () => {
    tracing = installInMemoryTracing();
    app = await createKanbanTestApp({
      transport,
      providers: [PaymentConsumer, FlakyConsumer, InvoiceBatchConsumer],
      options: { startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(async () => {
    await app?.close();
    await tracing.uninstall();
  });

  it("publishes under a PRODUCER span in the caller's trace and runs the handler in a CONSUMER span that is its child", async () => {
    // Arrange
    app.pool.start(PAYMENTS, 'normal');

    // Act
    const { checkout, id } = await tracing.inSpan('checkout', async (span) => ({
      checkout: span,
      id: (await app.queue.publish({ priority: 'normal', domain: PAYMENTS, payload: { cents: 100 }, deadline: inFuture() })).id,
    }));
    const [consumer] = await tracing.spans(`kanban process ${PAYMENTS}`, 1);
    await app.pool.stop(PAYMENTS, 'normal');

    // Assert
    const [producer] = await tracing.spans(`kanban publish ${PAYMENTS}`, 1);
    const traceId = checkout.spanContext().traceId;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(traceId);
    expect(producer.parentSpanContext?.spanId).toBe(checkout.spanContext().spanId);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.attributes['messaging.message.id']).toBe(id);
    expect(seenTraceIds.get(id)).toBe(traceId);
  });

  it("stores the producer's traceparent in the item's headers", async () => {
    // Arrange
    const { id } = await tracing.inSpan('order', () => app.queue.publish({ priority: 'high', domain: PAYMENTS, payload: {}, deadline: inFuture() }));

    // Act
    const [delivery] = await app.queue.pull({ domain: PAYMENTS, priority: 'high', max: 1, waitMs: 5_000 });
    await app.queue.ack(delivery.id, PAYMENTS, delivery.lease);

    // Assert
    const producer = (await tracing.spans(`kanban publish ${PAYMENTS}`, 2)).find((span) => span.attributes['messaging.message.id'] === id);
    expect(delivery.item.headers.traceparent).toBe(traceparentOf(producer!));
  });

  it('runs each retry in a span of the same trace that links to the previous attempt', async () => {
    // Arrange
    app.pool.start(FLAKY, 'normal');

    // Act
    await tracing.inSpan('refund', () => app.queue.publish({ priority: 'normal', domain: FLAKY, payload: {}, deadline: inFuture() }));
    const attempts = await tracing.spans(`kanban process ${FLAKY}`, 3);
    await app.pool.stop(FLAKY, 'normal');

    // Assert
    const [producer] = await tracing.spans(`kanban publish ${FLAKY}`, 1);
    expect(attempts.map((span) => span.attributes['kanban.attempts'])).toEqual([1, 2, 3]);
    for (const span of attempts) expect(span.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(attempts[0].links).toEqual([]);
    expect(attempts[1].links.map((link) => link.context.spanId)).toEqual([attempts[0].spanContext().spanId]);
    expect(attempts[2].links.map((link) => link.context.spanId)).toEqual([attempts[1].spanContext().spanId]);
  });

  it("runs a batch handler in one CONSUMER span linked to every item's publish span", async () => {
    // Arrange
    const ids: string[] = [];
    for (let n = 0; n < BATCH_SIZE; n++) ids.push((await app.queue.publish({ priority: 'normal', domain: INVOICES, payload: { n }, deadline: inFuture() })).id);

    // Act
    app.pool.start(INVOICES, 'normal');
    const [consumer] = await tracing.spans(`kanban process ${INVOICES}`, 1);
    await app.pool.stop(INVOICES, 'normal');

    // Assert
    const producers = await tracing.spans(`kanban publish ${INVOICES}`, BATCH_SIZE);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.attributes['messaging.batch.message_count']).toBe(BATCH_SIZE);
    expect(consumer.links.map((link) => link.context.spanId).sort()).toEqual(producers.map((span) => span.spanContext().spanId).sort());
  });
});
