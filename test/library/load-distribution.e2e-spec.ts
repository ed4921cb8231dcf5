import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const FRAUD = namespace.domain('fraud');
import { HandledLog } from './support/recording-handler';

const log = new HandledLog();

@Injectable()
class FraudConsumer {
  @KanbanHandler({ priority: 'normal', domain: FRAUD })
  async handle(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    log.record(payload, context);
    await sleep(2);
  }
}

describe.each(TRANSPORTS)('several workers share the load (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    log.runs.length = 0;
    app = await createKanbanTestApp({ transport, providers: [FraudConsumer], options: { workerPullSize: 5, minWorkers: 4, maxWorkers: 4, autoscale: false } });
  });
  afterAll(() => app.close());

  it('spreads 400 items over 4 workers with no item processed twice', async () => {
    // Arrange
    const requests = Array.from({ length: 400 }, (_, i) => ({ priority: 'normal' as const, domain: FRAUD, payload: { n: i }, deadline: inFuture() }));

    // Act
    const receipts = await Promise.all(requests.map((r) => app.queue.publish(r)));
    await waitFor(() => log.runs.length >= receipts.length, { timeoutMs: 30_000, description: '400 items handled' });

    // Assert
    expect(log.duplicates()).toBe(0);
    expect(new Set(log.ids())).toEqual(new Set(receipts.map((r) => r.id)));
    const perWorker = new Map<string, number>();
    for (const run of log.runs) perWorker.set(run.workerId, (perWorker.get(run.workerId) ?? 0) + 1);
    expect(perWorker.size).toBe(4);
    expect(app.pool.currentWorkers()).toBe(4);
  });
});
