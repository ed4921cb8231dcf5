import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler, KanbanNack, KanbanRetry, type DeadLetter } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const INVOICES = namespace.domain('invoices');
const EXPORTS = namespace.domain('exports');
const REPORTS = namespace.domain('reports');
const ITEMS = 10;

interface Invoice {
  n: number;
}

/** One entry per handler call: the item numbers and attempts it got. */
const invoiceCalls: { n: number; attempts: number }[][] = [];
const exportAttempts = new Map<number, number[]>();
let reportCalls = 0;

/**
 * Each failing item of a batch counts toward the breaker like a failing single item: the handlers
 * here fail four items in a row on purpose, so they run without one.
 *
 * Item n's result: 0–3 succeed (nothing or true), 4–5 are refused (KanbanNack), 6–7 fail once
 * then succeed (an Error, retried), 8–9 fail every time (dead-lettered after maxAttempts 2).
 */
function resultFor(invoice: Invoice, attempts: number): unknown {
  if (invoice.n < 2) return undefined;
  if (invoice.n < 4) return true;
  if (invoice.n < 6) return new KanbanNack(`invoice ${invoice.n} has no customer`);
  if (invoice.n < 8) return attempts === 1 ? new Error('tax service busy') : undefined;
  return new Error(`invoice ${invoice.n} total mismatch`);
}

@Injectable()
class InvoiceConsumer {
  @KanbanHandler({ priority: 'normal', domain: INVOICES, maxAttempts: 2, backoff: [0], circuitBreaker: false, batch: { max: ITEMS, waitMs: 1_000 } })
  settle(@Payload() invoices: Invoice[], @Ctx() contexts: KanbanContext[]) {
    invoiceCalls.push(invoices.map((invoice, i) => ({ n: invoice.n, attempts: contexts[i].getAttempts() })));
    return invoices.map((invoice, i) => resultFor(invoice, contexts[i].getAttempts()));
  }

  @KanbanHandler({ priority: 'normal', domain: EXPORTS, maxAttempts: 3, backoff: [0], circuitBreaker: false, batch: { max: 4, waitMs: 500 } })
  export(@Payload() rows: Invoice[], @Ctx() contexts: KanbanContext[]) {
    rows.forEach((row, i) => exportAttempts.set(row.n, [...(exportAttempts.get(row.n) ?? []), contexts[i].getAttempts()]));
    if (rows.some((row) => row.n === 0 && contexts[rows.indexOf(row)].getAttempts() === 1)) throw new KanbanRetry(0);
    throw new Error('warehouse offline');
  }

  @KanbanHandler({ priority: 'normal', domain: REPORTS, processTimeoutMs: 300, batch: { max: 3, waitMs: 500 } })
  async report(@Payload() _reports: unknown[], @Ctx() contexts: KanbanContext[]) {
    reportCalls++;
    await new Promise((resolve) => contexts[0].getSignal().addEventListener('abort', resolve));
  }
}

async function publishAll(app: KanbanTestApp, domain: string, count: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let n = 0; n < count; n++) ids.set((await app.queue.publish({ priority: 'normal', domain, payload: { n }, deadline: inFuture() })).id, n);
  return ids;
}

async function deadLetters(app: KanbanTestApp, domain: string, count: number): Promise<DeadLetter[]> {
  return waitFor(
    async () => {
      const found = (await app.queue.listDeadLetters({ domain })).items;
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 20_000, description: `${count} dead letters on ${domain}` },
  );
}

describe.each(TRANSPORTS)('batch handlers (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    invoiceCalls.length = 0;
    exportAttempts.clear();
    reportCalls = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [InvoiceConsumer],
      options: { maxAttempts: 5, retryBackoffMs: [0], startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('settles each item of a batch by its own result: acked, dead-lettered as nack, retried, dead-lettered as max_attempts', async () => {
    // Arrange
    const ids = await publishAll(app, INVOICES, ITEMS);

    // Act
    app.pool.start(INVOICES, 'normal');
    const letters = await deadLetters(app, INVOICES, 4);
    await waitFor(
      async () => {
        const [depth] = (await app.queue.depth()).filter((q) => q.domain === INVOICES);
        return depth.ready + depth.inFlight === 0 && invoiceCalls.flat().filter((c) => c.n === 6 || c.n === 7).length === 4;
      },
      { timeoutMs: 10_000, description: 'the invoice queue empty' },
    );
    await app.pool.stop(INVOICES, 'normal');

    // Assert
    const runs = (n: number) =>
      invoiceCalls
        .flat()
        .filter((call) => call.n === n)
        .map((call) => call.attempts);
    expect(invoiceCalls.every((call) => call.length <= ITEMS)).toBe(true);
    expect([0, 1, 2, 3, 4, 5].map(runs)).toEqual([[1], [1], [1], [1], [1], [1]]);
    expect([6, 7, 8, 9].map(runs)).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    const byNumber = letters.map((l) => [ids.get(l.id), l.reason, l.attempts, l.error]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(byNumber).toEqual([
      [4, 'nack', 1, 'invoice 4 has no customer'],
      [5, 'nack', 1, 'invoice 5 has no customer'],
      [8, 'max_attempts', 2, 'invoice 8 total mismatch'],
      [9, 'max_attempts', 2, 'invoice 9 total mismatch'],
    ]);
    expect(await app.queue.getMetrics()).toMatchObject({ acked: 6, deadLettered: 4 });
  });

  it('retries every item of a batch whose handler throws, each by its own attempts', async () => {
    // Arrange
    await publishAll(app, EXPORTS, 4);

    // Act
    app.pool.start(EXPORTS, 'normal');
    const letters = await deadLetters(app, EXPORTS, 4);
    await app.pool.stop(EXPORTS, 'normal');

    // Assert
    expect(letters.every((l) => l.reason === 'max_attempts' && l.attempts === 3)).toBe(true);
    expect([...exportAttempts.values()].every((attempts) => attempts.join() === '1,2,3')).toBe(true);
    expect(exportAttempts.size).toBe(4);
  });

  it('dead-letters every item of a batch whose handler runs past processTimeoutMs as processing_timeout', async () => {
    // Arrange
    const ids = await publishAll(app, REPORTS, 3);

    // Act
    app.pool.start(REPORTS, 'normal');
    const letters = await deadLetters(app, REPORTS, 3);
    await app.pool.stop(REPORTS, 'normal');

    // Assert
    expect(letters.map((l) => l.id).sort()).toEqual([...ids.keys()].sort());
    expect(letters.every((l) => l.reason === 'processing_timeout')).toBe(true);
    expect(reportCalls).toBeLessThanOrEqual(3);
  });
});
