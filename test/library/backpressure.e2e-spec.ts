import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanHandler } from '@tps/kanban';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const ACCOUNT = namespace.domain('account');

let handled = 0;

@Injectable()
class AccountConsumer {
  @KanbanHandler({ priority: 'low', domain: ACCOUNT })
  async handle() {
    await sleep(5);
    handled++;
  }
}

describe.each(TRANSPORTS)('backpressure: a worker pulls at most N (%s)', (transport) => {
  let app: KanbanTestApp;
  const pullSize = 4;
  const workers = 2;

  beforeAll(async () => {
    handled = 0;
    app = await createKanbanTestApp({ transport, providers: [AccountConsumer], options: { workerPullSize: pullSize, minWorkers: workers, maxWorkers: workers, autoscale: false } });
  });
  afterAll(() => app.close());

  it('never holds more than the pull size per worker while a backlog waits', async () => {
    // Arrange
    await Promise.all(Array.from({ length: 120 }, (_, i) => app.queue.publish({ priority: 'low', domain: ACCOUNT, payload: i, deadline: inFuture() })));
    let maxWorkerInFlight = 0;
    let maxQueueInFlight = 0;
    let sawBacklog = false;

    // Act
    const giveUpAt = performance.now() + 30_000;
    while (handled < 120 && performance.now() < giveUpAt) {
      for (const worker of app.pool.status()) maxWorkerInFlight = Math.max(maxWorkerInFlight, worker.inFlight);
      const [depth] = await app.queue.depth();
      maxQueueInFlight = Math.max(maxQueueInFlight, depth.inFlight);
      if (depth.ready > pullSize * workers) sawBacklog = true;
      await sleep(3);
    }

    // Assert
    expect(handled).toBe(120);
    expect(sawBacklog).toBe(true);
    expect(maxWorkerInFlight).toBeGreaterThan(0);
    expect(maxWorkerInFlight).toBeLessThanOrEqual(pullSize);
    expect(maxQueueInFlight).toBeLessThanOrEqual(pullSize * workers);
  });

  it('hands an HTTP-style puller no more than it asks for', async () => {
    // Arrange
    await app.pool.stop(ACCOUNT, 'low');
    await Promise.all(Array.from({ length: 30 }, (_, i) => app.queue.publish({ priority: 'low', domain: ACCOUNT, payload: i, deadline: inFuture() })));

    // Act
    const first = await app.queue.pull({ domain: ACCOUNT, max: 7, waitMs: 2_000 });
    const second = await app.queue.pull({ domain: ACCOUNT, max: 7, waitMs: 2_000 });

    // Assert
    expect(first).toHaveLength(7);
    expect(second).toHaveLength(7);
    expect(new Set([...first, ...second].map((d) => d.id)).size).toBe(14);
    const depth = (await app.queue.depth()).find((q) => q.domain === ACCOUNT && q.priority === 'low');
    expect(depth).toMatchObject({ inFlight: 14, ready: 16 });
  });
});
