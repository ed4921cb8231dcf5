import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadLetterNotFoundError, KanbanContext, KanbanHandler, KanbanNack, type DeadLetter, type DeadLetterReason } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const LEDGER = namespace.domain('ledger');
import { publishForeignBytes } from './support/foreign-bytes';

type Behaviour = { do: 'ack' } | { do: 'nack'; reason: string } | { do: 'throw' } | { do: 'hang'; ms: number };
let handledGood = 0;
const abortedItems: string[] = [];

@Injectable()
class LedgerConsumer {
  @KanbanHandler({ domain: LEDGER })
  async handle(@Payload() payload: Behaviour, @Ctx() context: KanbanContext) {
    switch (payload.do) {
      case 'nack':
        throw new KanbanNack(payload.reason);
      case 'throw':
        throw new Error('ledger database unavailable');
      case 'hang':
        context.getSignal().addEventListener('abort', () => abortedItems.push(context.getItem().id));
        await sleep(payload.ms);
        return;
      default:
        handledGood++;
    }
  }
}

describe.each(TRANSPORTS)('every dead-letter reason (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    handledGood = 0;
    abortedItems.length = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [LedgerConsumer],
      options: {
        maxWorkers: 1,
        autoscale: false,
        workerProcessTimeoutMs: 1_000,
        maxAttempts: 3,
        retryBackoffMs: [10],
        circuitBreakerThreshold: 100,
        deadLetterTimeoutMs: 400,
        coordinatorCheckIntervalMs: 60_000,
      },
    });
  });
  afterAll(() => app.close());

  const deadLetterOf = (id: string): Promise<DeadLetter> => waitFor(() => app.queue.getDeadLetter(id), { timeoutMs: 10_000, description: `dead letter ${id}` });
  const publish = async (payload: Behaviour, deadline = inFuture()) => (await app.queue.publish({ priority: 'normal', domain: LEDGER, payload, deadline })).id;

  it('nack: the handler rejects the item with a reason', async () => {
    const id = await publish({ do: 'nack', reason: 'card declined' });
    const letter = await deadLetterOf(id);
    expect(letter).toMatchObject({ reason: 'nack', error: 'card declined', attempts: 1, domain: LEDGER, priority: 'normal' });
    expect(letter.item?.payload).toEqual({ do: 'nack', reason: 'card declined' });
  });

  it('max_attempts: a handler that keeps throwing gets maxAttempts deliveries, then the last error is kept', async () => {
    const id = await publish({ do: 'throw' });
    const letter = await deadLetterOf(id);
    expect(letter).toMatchObject({ reason: 'max_attempts', error: 'ledger database unavailable', attempts: 3 });
  });

  it('processing_timeout: the handler runs longer than workerProcessTimeoutMs, and its signal is aborted', async () => {
    const id = await publish({ do: 'hang', ms: 2_500 });
    const letter = await deadLetterOf(id);
    expect(letter).toMatchObject({ reason: 'processing_timeout', attempts: 1 });
    expect(abortedItems).toEqual([id]);
  });

  it('deadline_exceeded: an item that expired while queued never reaches a handler', async () => {
    await app.pool.stop(LEDGER);
    const id = await publish({ do: 'ack' }, Date.now() + 50);
    await sleep(100);
    const before = handledGood;

    // Waits like a worker: on RabbitMQ the item reaches this process a broker push after its publish.
    const pulled = await app.queue.pull({ domain: LEDGER, waitMs: 1_000 });

    expect(pulled).toEqual([]);
    expect(await app.queue.getDeadLetter(id)).toMatchObject({ reason: 'deadline_exceeded' });
    expect(handledGood).toBe(before);
    app.pool.start(LEDGER);
  });

  it('stalled: an item pulled and never settled is swept by the coordinator', async () => {
    await app.pool.stop(LEDGER);
    const id = await publish({ do: 'ack' });
    const [delivery] = await app.queue.pull({ domain: LEDGER, max: 1, waitMs: 5_000 });
    expect(delivery.id).toBe(id);

    await waitFor(
      async () => {
        await app.coordinator.check();
        return app.queue.getDeadLetter(id);
      },
      { timeoutMs: 5_000, description: 'stalled sweep' },
    );

    expect(await app.queue.getDeadLetter(id)).toMatchObject({ reason: 'stalled', attempts: 1 });
    app.pool.start(LEDGER);
  });

  it('malformed: undecodable bytes in the store are dead-lettered and the worker keeps going', async () => {
    await publishForeignBytes(app, 'normal', LEDGER, Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
    const before = handledGood;
    const good = await publish({ do: 'ack' });

    await waitFor(() => handledGood > before, { timeoutMs: 10_000, description: 'good item handled after the malformed one' });
    const letters = (await app.queue.listDeadLetters({ domain: LEDGER, reason: 'malformed' })).items;

    expect(letters).toHaveLength(1);
    expect(letters[0].raw).toBe(Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('base64'));
    expect(letters[0].item).toBeUndefined();
    await expect(app.queue.getDeadLetter(good)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });

  it('counts each reason in kanban_dead_lettered_total and can list them by reason', async () => {
    const reasons: DeadLetterReason[] = ['nack', 'max_attempts', 'processing_timeout', 'deadline_exceeded', 'stalled', 'malformed'];
    for (const reason of reasons) {
      expect((await app.queue.listDeadLetters({ domain: LEDGER, reason })).items).toHaveLength(1);
      const counted = (await app.metrics.deadLettered.get()).values.filter((v) => v.labels.reason === reason).reduce((n, v) => n + v.value, 0);
      expect(counted).toBe(1);
    }
  });
});
