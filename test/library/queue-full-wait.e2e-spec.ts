import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { performance } from 'node:perf_hooks';
import { KanbanHandler, QueueFullError } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const LEDGER = namespace.domain('fullwait');
const MAX_QUEUE_DEPTH = 2;
const QUEUE_FULL_WAIT_MS = 2_000;
const DRAIN_TIMEOUT_MS = 10_000;

const handled: unknown[] = [];

@Injectable()
class LedgerConsumer {
  @KanbanHandler({ priority: 'normal', domain: LEDGER })
  handle(@Payload() payload: unknown) {
    handled.push(payload);
  }
}

describe.each(TRANSPORTS)("queueFullBehavior: 'wait' (%s)", (transport) => {
  let app: KanbanTestApp;
  const publish = (payload: string) => app.queue.publish({ priority: 'normal', domain: LEDGER, payload, deadline: inFuture() });
  const held = async () => (await app.queue.depth()).filter((q) => q.domain === LEDGER).reduce((sum, q) => sum + q.ready + q.inFlight, 0);

  beforeAll(async () => {
    handled.length = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [LedgerConsumer],
      options: { maxQueueDepth: MAX_QUEUE_DEPTH, queueFullBehavior: 'wait', queueFullWaitMs: QUEUE_FULL_WAIT_MS, startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('waits queueFullWaitMs on a full queue that nothing drains, then gives up with QueueFullError and stores nothing', async () => {
    // Arrange
    for (let i = 0; i < MAX_QUEUE_DEPTH; i++) await publish(`fill-${i}`);

    // Act
    const startedAt = performance.now();
    const refused = await publish('refused').catch((error: unknown) => error);
    const waitedMs = performance.now() - startedAt;

    // Assert
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(waitedMs).toBeGreaterThanOrEqual(QUEUE_FULL_WAIT_MS);
    expect(await held()).toBe(MAX_QUEUE_DEPTH);
  });

  it('keeps a publish to a full queue waiting and stores it once a worker drains the queue', async () => {
    // Arrange
    expect(await held()).toBe(MAX_QUEUE_DEPTH);
    let outcome: 'pending' | 'stored' | 'refused' = 'pending';
    const publishing = publish('late').then(
      (receipt) => {
        outcome = 'stored';
        return receipt;
      },
      (error: unknown) => {
        outcome = 'refused';
        throw error;
      },
    );
    await app.queue.depth();
    const beforeDrain = outcome;

    // Act
    app.pool.start(LEDGER, 'normal');
    const receipt = await publishing;
    await waitFor(async () => handled.length === MAX_QUEUE_DEPTH + 1 && (await held()) === 0, { timeoutMs: DRAIN_TIMEOUT_MS, description: 'every stored item handled and the queue empty' });

    // Assert
    expect(beforeDrain).toBe('pending');
    expect(receipt).toMatchObject({ id: expect.any(String), duplicate: false });
    expect([...handled].sort()).toEqual(['fill-0', 'fill-1', 'late']);
  });
});
