import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler, type KanbanModuleOptions } from '@tps/kanban';
import { natsBroker } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp, type TransportKind } from '../library/support/kanban-test-app';
import { installInMemoryTracing, type InMemoryTracing } from './support/in-memory-tracing';

const REFUNDS = namespace.domain('refunds');
/** Long enough that the first instance is gone before the retry is due. */
const RETRY_DELAY_MS = 300;

/** Fails the first attempt of each item, then succeeds. */
@Injectable()
class RefundConsumer {
  @KanbanHandler({ priority: 'normal', domain: REFUNDS, maxAttempts: 3, backoff: { type: 'fixed', delayMs: RETRY_DELAY_MS } })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    if (context.getAttempts() === 1) throw new Error('refund gateway timed out');
  }
}

/** On NATS the retry goes through the delay stream (which re-writes the item) however short its delay. */
function optionsFor(transport: TransportKind): KanbanModuleOptions {
  const quiet = { startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 };
  return transport === 'nats' ? { ...quiet, nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix, delayStreamMinMs: 0 } } : quiet;
}

describe.each(TRANSPORTS)('a retry run by another process links to the failed attempt (%s)', (transport) => {
  let tracing: InMemoryTracing;
  const apps: KanbanTestApp[] = [];
  /** The embedded store both apps open, one after the other. */
  const dir = mkdtempSync(join(tmpdir(), 'kanban-retry-link-'));
  const dbPath = join(dir, 'kanban.db');

  beforeAll(() => {
    tracing = installInMemoryTracing();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await tracing.uninstall();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the second attempt, in a restarted app, in a span that links to the first attempt's span", async () => {
    // Arrange
    const first = await createKanbanTestApp({ transport, providers: [RefundConsumer], options: optionsFor(transport), dbPath });
    apps.push(first);
    first.pool.start(REFUNDS, 'normal');
    await tracing.inSpan('refund', () => first.queue.publish({ priority: 'normal', domain: REFUNDS, payload: {}, deadline: inFuture() }));
    const [failed] = await tracing.spans(`kanban process ${REFUNDS}`, 1);
    await first.pool.stop(REFUNDS, 'normal');
    await first.close();

    // Act
    const second = await createKanbanTestApp({ transport, providers: [RefundConsumer], options: optionsFor(transport), dbPath });
    apps.push(second);
    second.pool.start(REFUNDS, 'normal');
    const attempts = await tracing.spans(`kanban process ${REFUNDS}`, 2);
    await second.pool.stop(REFUNDS, 'normal');

    // Assert
    const [producer] = await tracing.spans(`kanban publish ${REFUNDS}`, 1);
    expect(attempts.map((span) => span.attributes['kanban.attempts'])).toEqual([1, 2]);
    expect(attempts[1].parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(attempts[1].links.map((link) => link.context.spanId)).toEqual([failed.spanContext().spanId]);
  });
});
