import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from './support/kanban-test-app';

let handled = 0;

@Injectable()
class AccountConsumer {
  @KanbanHandler({ priority: 'low', domain: 'account' })
  async handle() {
    await sleep(5);
    handled++;
  }
}

describe('backpressure: a worker pulls at most N', () => {
  let app: KanbanTestApp;
  const pullSize = 4;
  const workers = 2;

  beforeAll(async () => {
    app = await createKanbanTestApp({ providers: [AccountConsumer], options: { workerPullSize: pullSize, minWorkers: workers, maxWorkers: workers, autoscale: false } });
  });
  afterAll(() => app.close());

  it('never holds more than the pull size per worker while a backlog waits', async () => {
    // Arrange
    await Promise.all(Array.from({ length: 120 }, (_, i) => app.queue.publish({ priority: 'low', domain: 'account', payload: i, deadline: inFuture() })));
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
    await app.pool.stop('account', 'low');
    await Promise.all(Array.from({ length: 30 }, (_, i) => app.queue.publish({ priority: 'low', domain: 'account', payload: i, deadline: inFuture() })));

    // Act
    const first = await app.queue.pull({ domain: 'account', max: 7 });
    const second = await app.queue.pull({ domain: 'account', max: 7 });

    // Assert
    expect(first).toHaveLength(7);
    expect(second).toHaveLength(7);
    expect(new Set([...first, ...second].map((d) => d.id)).size).toBe(14);
    await waitFor(async () => (await app.queue.depth())[0]?.inFlight === 14, { timeoutMs: 2_000, description: '14 in flight' });
  });
});
