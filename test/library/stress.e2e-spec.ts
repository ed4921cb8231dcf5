import { Injectable } from '@nestjs/common';
import { Ctx } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const BULK = namespace.domain('bulk');

const seen = new Map<string, number>();

@Injectable()
class BulkConsumer {
  @KanbanHandler({ domain: BULK })
  handle(@Ctx() context: KanbanContext) {
    const id = context.getItem().id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
}

describe.each(TRANSPORTS)('stress: 10,000 items (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    seen.clear();
    app = await createKanbanTestApp({ transport, providers: [BulkConsumer], options: { minWorkers: 4, maxWorkers: 4, autoscale: false } });
  });
  afterAll(() => app.close());

  it('processes every item exactly once with none lost', async () => {
    // Arrange
    const total = 10_000;
    const published: string[] = [];

    // Act
    for (let start = 0; start < total; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) =>
        app.queue.publish({ priority: (['high', 'normal', 'low'] as const)[(start + i) % 3], domain: BULK, payload: { n: start + i }, deadline: inFuture(600_000) }),
      );
      for (const receipt of await Promise.all(batch)) published.push(receipt.id);
    }
    await waitFor(() => seen.size >= total, { timeoutMs: 240_000, intervalMs: 250, description: '10,000 items processed' });

    // Assert
    expect(new Set(published).size).toBe(total);
    expect(published.filter((id) => !seen.has(id))).toEqual([]);
    expect([...seen.values()].filter((count) => count > 1)).toEqual([]);
    await waitFor(async () => (await app.queue.depth()).every((q) => q.ready + q.inFlight === 0), { timeoutMs: 10_000, description: 'empty queues' });
    expect((await app.queue.listDeadLetters({ domain: BULK })).items).toEqual([]);
  }, 300_000);
});
