import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler, type DeadLetter } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const REFUNDS = namespace.domain('refunds');
const ITEMS = 5;

const handled: string[] = [];

@Injectable()
class RefundConsumer {
  @KanbanHandler({ priority: 'normal', domain: REFUNDS })
  handle(@Payload() payload: { n: number }) {
    handled.push(String(payload.n));
    throw new Error('refund service down');
  }
}

/**
 * With maxAttempts 1 every delivery is the last one. The breaker opens on the third failure and
 * hands back the two items it pulled and never ran: the broker counted their delivery, so they
 * are dead-lettered as max_attempts like the three that failed, never delivered a second time.
 */
describe.each(TRANSPORTS)('items handed back on their last attempt (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    handled.length = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [RefundConsumer],
      // No worker before the items are published: the first pull then takes all of them in one batch
      // (a RabbitMQ consumer subscribing waits for what the queue holds ready).
      options: { workerPullSize: ITEMS, maxWorkers: 1, autoscale: false, startWorkers: false, maxAttempts: 1, circuitBreakerThreshold: 3, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('dead-letters the unstarted items an opening breaker hands back as max_attempts, and runs none of them', async () => {
    // Arrange
    const ids: string[] = [];
    for (let n = 0; n < ITEMS; n++) ids.push((await app.queue.publish({ priority: 'normal', domain: REFUNDS, payload: { n }, deadline: inFuture() })).id);

    // Act
    app.pool.start(REFUNDS, 'normal');
    const letters = await waitFor(
      async () => {
        const found = (await app.queue.listDeadLetters({ domain: REFUNDS })).items;
        return found.length === ITEMS ? found : undefined;
      },
      { timeoutMs: 15_000, description: `${ITEMS} dead letters` },
    );

    // Assert
    const byError = (letter: DeadLetter): string => (letter.error?.includes('circuit breaker') ? 'handed back' : (letter.error ?? ''));
    expect(handled).toHaveLength(3);
    expect(letters.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect(letters.every((l) => l.reason === 'max_attempts' && l.attempts === 1)).toBe(true);
    expect(letters.map(byError).sort()).toEqual(['handed back', 'handed back', 'refund service down', 'refund service down', 'refund service down']);
    expect(app.pool.status()[0]).toMatchObject({ state: 'open', inFlight: 0 });
    const [depth] = await app.queue.depth();
    expect(depth).toMatchObject({ ready: 0, inFlight: 0 });
  });
});
