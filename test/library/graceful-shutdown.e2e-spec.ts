import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { DrainingError, KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const SETTLEMENT = namespace.domain('settlement');

const started = new Set<string>();
const finished = new Set<string>();

@Injectable()
class SettlementConsumer {
  @KanbanHandler({ priority: 'normal', domain: SETTLEMENT })
  async handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    started.add(context.getItem().id);
    await sleep(150);
    finished.add(context.getItem().id);
  }
}

describe.each(TRANSPORTS)('graceful shutdown drains (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    started.clear();
    finished.clear();
    app = await createKanbanTestApp({ transport, providers: [SettlementConsumer], options: { workerPullSize: 2, minWorkers: 2, maxWorkers: 2, autoscale: false } });
  });
  afterAll(() => app.close());

  it('refuses intake, finishes what workers hold, stops workers, and keeps the rest queued', async () => {
    // Arrange
    const ids = (await Promise.all(Array.from({ length: 20 }, (_, i) => app.queue.publish({ priority: 'normal', domain: SETTLEMENT, payload: i, deadline: inFuture() })))).map((r) => r.id);
    await waitFor(() => started.size >= 2, { timeoutMs: 5_000, description: 'work in flight' });

    // Act
    await app.coordinator.drainQueue();

    // Assert
    await expect(app.queue.publish({ priority: 'normal', domain: SETTLEMENT, payload: 'late', deadline: inFuture() })).rejects.toBeInstanceOf(DrainingError);
    expect(finished).toEqual(started);
    expect(app.pool.currentWorkers()).toBe(0);
    expect(app.coordinator.getHealth().queue_draining).toBe(true);
    const [depth] = await app.queue.depth();
    expect(depth.inFlight).toBe(0);
    expect(depth.ready).toBe(ids.length - finished.size);
    expect(app.logs.some((l) => l.includes('Drained'))).toBe(true);
  });
});
