import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const PAYMENT = namespace.domain('payment');
import { HandledLog } from './support/recording-handler';

const log = new HandledLog();

@Injectable()
class PaymentConsumer {
  @KanbanHandler({ priority: 'high', domain: PAYMENT })
  handle(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    log.record(payload, context);
  }
}

describe.each(TRANSPORTS)('a single worker pulls and processes items (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    log.runs.length = 0;
    app = await createKanbanTestApp({ transport, providers: [PaymentConsumer], options: { maxWorkers: 1, autoscale: false } });
  });
  afterAll(() => app.close());

  it('processes every published item once, in order, and leaves the queue empty', async () => {
    // Arrange
    const amounts = Array.from({ length: 25 }, (_, i) => ({ amount: i + 0.5 }));

    // Act
    const ids: string[] = [];
    for (const payload of amounts) ids.push((await app.queue.publish({ priority: 'high', domain: PAYMENT, payload, deadline: inFuture() })).id);
    await waitFor(() => log.runs.length >= ids.length, { timeoutMs: 20_000, description: '25 items handled' });

    // Assert
    expect(log.runs.map((r) => (r.payload as { amount: number }).amount)).toEqual(amounts.map((a) => a.amount));
    expect(log.ids()).toEqual(ids);
    expect(log.runs.map((r) => r.payload)).toEqual(amounts);
    expect(new Set(log.runs.map((r) => r.workerId)).size).toBe(1);
    await waitFor(async () => (await app.queue.depth()).every((q) => q.ready + q.inFlight === 0), { timeoutMs: 5_000, description: 'empty queue' });
    expect(app.pool.status()).toEqual([expect.objectContaining({ domain: PAYMENT, priority: 'high', state: 'running', processed: 25, failed: 0 })]);
  });
});
