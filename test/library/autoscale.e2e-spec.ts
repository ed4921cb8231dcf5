import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const ORDERS = namespace.domain('orders');
let handled = 0;

@Injectable()
class OrderConsumer {
  @KanbanHandler({ priority: 'normal', domain: ORDERS })
  async handle() {
    await sleep(20);
    handled++;
  }
}

describe.each(TRANSPORTS)('coordinator autoscaling (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    handled = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [OrderConsumer],
      options: { workerPullSize: 2, minWorkers: 1, maxWorkers: 4, scaleUpDepthPerWorker: 10, coordinatorCheckIntervalMs: 100 },
    });
  });
  afterAll(() => app.close());

  it('adds workers while a backlog waits, up to maxWorkers, and returns to minWorkers once it is gone', async () => {
    // Arrange
    await Promise.all(Array.from({ length: 150 }, (_, i) => app.queue.publish({ priority: 'normal', domain: ORDERS, payload: i, deadline: inFuture() })));

    // Act
    const scaledUp = await waitFor(() => [app.coordinator.getHealth()].find((h) => h.current_workers === 4), { timeoutMs: 10_000, intervalMs: 20, description: '4 workers' });
    await waitFor(() => handled === 150, { timeoutMs: 60_000, description: 'backlog processed' });
    const scaledDown = await waitFor(() => [app.coordinator.getHealth()].find((h) => h.current_workers === 1), { timeoutMs: 10_000, description: 'back to 1 worker' });

    // Assert
    expect(scaledUp.target_workers).toBe(4);
    expect(scaledDown.target_workers).toBe(1);
    expect(scaledDown.queue_depth_samples.length).toBeLessThanOrEqual(10);
    await waitFor(() => app.coordinator.getHealth().queue_depth_samples.at(-1) === 0, { timeoutMs: 5_000, description: 'an empty depth sample' });
    expect(app.logs.some((l) => l.includes(`Autoscale kanban.normal.${ORDERS}: 1 -> `))).toBe(true);
  });

  it('adjustWorkers pins the count until autoscaling resumes', async () => {
    await app.coordinator.adjustWorkers(3);
    await sleep(300);
    expect(app.coordinator.getHealth()).toMatchObject({ current_workers: 3, target_workers: 3 });

    app.coordinator.resumeAutoscale();
    await waitFor(() => app.coordinator.getHealth().current_workers === 1, { timeoutMs: 5_000, description: 'autoscaled back to 1' });
  });
});
