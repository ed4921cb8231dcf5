import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const LEDGER = namespace.domain('ledger');
const PAYOUTS = namespace.domain('payouts');
const AUDITS = namespace.domain('audits');
const REFUNDS = namespace.domain('refunds');
const refundRuns: number[] = [];
const MODULE_MAX_ATTEMPTS = 2;

const ledgerAttempts: number[] = [];

@Injectable()
class LedgerConsumer {
  @KanbanHandler({ priority: 'normal', domain: LEDGER, maxAttempts: 5, backoff: { type: 'fixed', delayMs: 0 } })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    ledgerAttempts.push(context.getAttempts());
    throw new Error('ledger locked');
  }
}

/** Never started here: its items are worked by an HTTP-like worker through KanbanQueue.pull and retry. */
@Injectable()
class PayoutConsumer {
  @KanbanHandler({ priority: 'high', domain: PAYOUTS, maxAttempts: 4 })
  handle(@Payload() _payload: unknown) {}
}

/** This queue's maxAttempts is 1 (the module's 2, the transport's 5 for LedgerConsumer), with a 200 ms lease; worked by an HTTP-like worker that dies. */
@Injectable()
class AuditConsumer {
  @KanbanHandler({ priority: 'low', domain: AUDITS, maxAttempts: 1, processTimeoutMs: 100 })
  handle(@Payload() _payload: unknown) {}
}

/** maxAttempts 1 and a breaker that opens on the first failure: the items it pulled and never ran go back through the queue's rule. */
@Injectable()
class RefundConsumer {
  @KanbanHandler({ priority: 'normal', domain: REFUNDS, maxAttempts: 1, pullSize: 3, circuitBreaker: { threshold: 1, cooldownMs: 60_000 } })
  handle(@Payload() payload: { n: number }) {
    refundRuns.push(payload.n);
    throw new Error('refund service down');
  }
}

describe.each(TRANSPORTS)("a handler's maxAttempts is its queue's rule (%s)", (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    ledgerAttempts.length = 0;
    refundRuns.length = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [LedgerConsumer, PayoutConsumer, AuditConsumer, RefundConsumer],
      options: { maxAttempts: MODULE_MAX_ATTEMPTS, retryBackoffMs: [0], deadLetterTimeoutMs: 60_000, startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('dead-letters a failing item of a maxAttempts 5 handler after exactly 5 deliveries (module: 2)', async () => {
    // Arrange
    const { id } = await app.queue.publish({ priority: 'normal', domain: LEDGER, payload: { entry: 1 }, deadline: inFuture() });

    // Act
    app.pool.start(LEDGER, 'normal');
    const [letter] = await waitFor(
      async () => {
        const found = (await app.queue.listDeadLetters({ domain: LEDGER })).items;
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, description: 'the ledger item dead-lettered' },
    );
    await app.pool.stop(LEDGER, 'normal');

    // Assert
    expect(letter).toMatchObject({ id, reason: 'max_attempts', attempts: 5, error: 'ledger locked' });
    expect(ledgerAttempts).toEqual([1, 2, 3, 4, 5]);
  });

  it("applies the handler's maxAttempts 4 to retries through KanbanQueue.retry, as POST /work/:id/retry does", async () => {
    // Arrange
    const { id } = await app.queue.publish({ priority: 'high', domain: PAYOUTS, payload: { amount: 5 }, deadline: inFuture() });
    const outcomes: string[] = [];

    // Act
    for (let delivery = 1; delivery <= 4; delivery++) {
      const [item] = await app.queue.pull({ domain: PAYOUTS, priority: 'high', max: 1, waitMs: 5_000 });
      expect(item).toMatchObject({ id, item: { attempts: delivery } });
      const outcome = await app.queue.retry(item.item.id, PAYOUTS, item.lease, 0, `bank refused (${delivery})`);
      outcomes.push(outcome.status);
    }

    // Assert
    expect(outcomes).toEqual(['retrying', 'retrying', 'retrying', 'dead_lettered']);
    const letter = await app.queue.getDeadLetter(id);
    expect(letter).toMatchObject({ reason: 'max_attempts', attempts: 4, error: 'bank refused (4)' });
    expect(await app.queue.pull({ domain: PAYOUTS, priority: 'high', max: 1, waitMs: 0 })).toEqual([]);
  });

  it("dead-letters as stalled an item whose lease lapsed on its handler's last attempt, where the broker allows more", async () => {
    // Arrange
    const { id } = await app.queue.publish({ priority: 'low', domain: AUDITS, payload: { audit: 1 }, deadline: inFuture() });
    const [first] = await app.queue.pull({ domain: AUDITS, priority: 'low', max: 1, waitMs: 5_000 });

    // Act: the worker holding the item dies; its lease lapses and the broker delivers the item again.
    const letter = await waitFor(
      async () => {
        const again = await app.queue.pull({ domain: AUDITS, priority: 'low', max: 1, waitMs: 200 });
        if (again.length > 0) return { redelivered: again[0].item.attempts };
        return (await app.queue.listDeadLetters({ domain: AUDITS })).items[0];
      },
      { timeoutMs: 15_000, description: 'the audit item redelivered or dead-lettered' },
    );

    // Assert
    expect(first.item).toMatchObject({ id, attempts: 1 });
    expect(letter).toMatchObject({ id, reason: 'stalled', attempts: 2 });
  });

  it("dead-letters the items a breaker hands back on the handler's last attempt (maxAttempts 1, module 2), running none of them", async () => {
    // Arrange
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await app.queue.publish({ priority: 'normal', domain: REFUNDS, payload: { n }, deadline: inFuture() })).id);

    // Act
    app.pool.start(REFUNDS, 'normal');
    const letters = await waitFor(
      async () => {
        const found = (await app.queue.listDeadLetters({ domain: REFUNDS })).items;
        return found.length === 3 ? found : undefined;
      },
      { timeoutMs: 15_000, description: '3 refund dead letters' },
    );
    await app.pool.stop(REFUNDS, 'normal');

    // Assert
    expect(refundRuns).toHaveLength(1);
    expect(letters.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect(letters.every((l) => l.reason === 'max_attempts' && l.attempts === 1)).toBe(true);
  });
});
