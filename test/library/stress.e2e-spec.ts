import { Injectable } from '@nestjs/common';
import { Ctx } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from './support/kanban-test-app';

const seen = new Map<string, number>();

@Injectable()
class BulkConsumer {
  @KanbanHandler({ domain: 'bulk' })
  handle(@Ctx() context: KanbanContext) {
    const id = context.getItem().id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
}

describe('stress: 10,000 items', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({ providers: [BulkConsumer], options: { minWorkers: 4, maxWorkers: 4, autoscale: false } });
  });
  afterAll(() => app.close());

  it('processes every item exactly once with none lost', async () => {
    // Arrange
    const total = 10_000;
    const published: string[] = [];

    // Act
    for (let start = 0; start < total; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) => app.queue.publish({ priority: (['high', 'normal', 'low'] as const)[(start + i) % 3], domain: 'bulk', payload: { n: start + i }, deadline: inFuture(600_000) }));
      for (const receipt of await Promise.all(batch)) published.push(receipt.id);
    }
    await waitFor(() => seen.size >= total, { timeoutMs: 240_000, intervalMs: 250, description: '10,000 items processed' });

    // Assert
    expect(new Set(published).size).toBe(total);
    expect(published.filter((id) => !seen.has(id))).toEqual([]);
    expect([...seen.values()].filter((count) => count > 1)).toEqual([]);
    await waitFor(async () => (await app.queue.depth()).every((q) => q.ready + q.inFlight === 0), { timeoutMs: 10_000, description: 'empty queues' });
    expect(await app.queue.listDeadLetters({ domain: 'bulk' })).toEqual([]);
  }, 300_000);
});
