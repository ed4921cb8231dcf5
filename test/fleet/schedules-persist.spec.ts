import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KanbanValidationError } from '../../libs/kanban/src';
import { rabbitmqBroker, waitFor } from '../harness';
import { unreachable } from '../failover/support/parts';
import { createKanbanTestApp, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';

const INTERVAL_MS = 200;
/** How long every instance stays down in the catch-up scenario: several ticks are missed. */
const OUTAGE_MS = 5 * INTERVAL_MS;

describe.each(['embedded', 'nats', 'rabbitmq'] as const)('schedules persist across restarts (%s)', (transport) => {
  let dir: string;
  const apps: KanbanTestApp[] = [];
  const start = (): Promise<KanbanTestApp> =>
    createKanbanTestApp({ transport, dbPath: join(dir, 'kanban.db'), options: { startWorkers: false, autoscale: false } }).then((app) => {
      apps.push(app);
      return app;
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-schedules-'));
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Tick times of the items waiting in (normal, domain), read from their idempotency keys. */
  async function tickTimes(app: KanbanTestApp, domain: string): Promise<number[]> {
    const deliveries = await app.queue.pull({ domain, priority: 'normal', max: 100, waitMs: 500 });
    return deliveries.map((delivery) => Number((delivery.item.idempotencyKey ?? '').split(':').pop())).sort((a, b) => a - b);
  }

  it('refuses to start with a bad schedule declared in forRoot, naming every bad field', async () => {
    const starting = createKanbanTestApp({
      transport,
      dbPath: join(dir, 'kanban.db'),
      options: { startWorkers: false, schedules: [{ name: 'bad', priority: 'urgent' as never, domain: 'a.b', intervalMs: 0, deadlineMs: 0, catchUp: 'some' as never }] },
    });

    const error = await starting.catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KanbanValidationError);
    expect((error as KanbanValidationError).errors.map((e) => e.field)).toEqual(['priority', 'domain', 'deadlineMs', 'intervalMs', 'catchUp']);
  });

  it('a schedule created through the API is listed and fires again after a restart', async () => {
    // Arrange
    const domain = namespace.domain(`persist-${transport}`);
    const first = await start();
    const jobId = await first.scheduler.schedulePeriodic('normal', domain, INTERVAL_MS, 60_000, { report: 'daily' }, { name: `daily-${transport}` });
    await first.close();

    // Act
    const second = await start();
    await waitFor(() => second.scheduler.list().some((s) => s.jobId === jobId && s.published >= 1), { timeoutMs: 10_000, description: 'the stored schedule publishing after the restart' });

    // Assert
    expect(second.scheduler.list()).toEqual([expect.objectContaining({ jobId, kind: 'interval', priority: 'normal', domain, intervalMs: INTERVAL_MS, deadlineMs: 60_000, catchUp: 'none' })]);
    const [delivery] = await second.queue.pull({ domain, priority: 'normal', max: 1, waitMs: 1_000 });
    expect(delivery.item.payload).toEqual({ report: 'daily' });
    await second.scheduler.cancelSchedule(jobId);
    expect(second.scheduler.list()).toEqual([]);
  });

  it("catchUp 'all' publishes every tick missed while no instance ran, 'one' the latest of them, 'none' none", async () => {
    // Arrange
    const all = namespace.domain(`all-${transport}`);
    const one = namespace.domain(`one-${transport}`);
    const none = namespace.domain(`none-${transport}`);
    const first = await start();
    await first.scheduler.schedulePeriodic('normal', one, INTERVAL_MS, 60_000, 'one', { name: `catch-one-${transport}`, catchUp: 'one' });
    await first.scheduler.schedulePeriodic('normal', all, INTERVAL_MS, 60_000, 'all', { name: `catch-all-${transport}`, catchUp: 'all' });
    await first.scheduler.schedulePeriodic('normal', none, INTERVAL_MS, 60_000, 'none', { name: `catch-none-${transport}`, catchUp: 'none' });
    await waitFor(() => first.scheduler.list().every((s) => s.published >= 2), { timeoutMs: 10_000, description: 'every schedule publishing' });
    const skippedBefore = first.scheduler.get(`catch-all-${transport}`).skipped;
    await first.close();
    const downAt = Date.now();
    await waitFor(() => Date.now() >= downAt + OUTAGE_MS, { timeoutMs: OUTAGE_MS + 2_000, intervalMs: 20, description: 'the outage' });

    // Act
    const second = await start();
    await waitFor(() => second.scheduler.list().every((s) => s.published >= 2), { timeoutMs: 10_000, description: 'every schedule publishing after the restart' });

    // Assert
    const allTicks = await tickTimes(second, all);
    const oneTicks = await tickTimes(second, one);
    const noneTicks = await tickTimes(second, none);
    // 'none' publishes only the regular ticks of the second run: anything the others published before its first is a catch-up.
    const firstRegular = Math.min(...noneTicks.filter((time) => time > downAt));
    const inOutage = (times: number[]): number => times.filter((time) => time > downAt && time < firstRegular).length;
    const gaps = (times: number[]): number[] => times.slice(1).map((time, i) => time - times[i]);
    // A tick that fell while the previous one was still publishing is skipped by design and counted so.
    const skipped = skippedBefore + second.scheduler.get(`catch-all-${transport}`).skipped;
    const missing = gaps(allTicks).reduce((sum, gap) => sum + gap / INTERVAL_MS - 1, 0);
    expect(missing).toBeLessThanOrEqual(skipped);
    expect(inOutage(allTicks)).toBeGreaterThanOrEqual(OUTAGE_MS / INTERVAL_MS - 1);
    expect(inOutage(oneTicks)).toBe(1);
    expect(Math.max(...gaps(noneTicks))).toBeGreaterThanOrEqual(OUTAGE_MS);
  });
});

describe('schedules declared while the primary broker is down (failover)', () => {
  it('starts on the fallback and keeps the declared schedule waiting to be stored, not lost', async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'kanban-schedules-'));
    const options = {
      nats: { servers: [await unreachable('nats')], streamPrefix: namespace.streamPrefix },
      rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix },
      embedded: { path: join(dir, 'outbox.db') },
      startWorkers: false,
      schedules: [{ name: 'declared-while-down', priority: 'normal' as const, domain: namespace.domain('down'), intervalMs: 1_000, deadlineMs: 60_000 }],
    };

    // Act
    const app = await createKanbanTestApp({ options });

    // Assert
    try {
      expect(app.transport.currentStatus).toMatchObject({ active: 'rabbitmq' });
      expect(app.logs.some((line) => line.includes('Declared schedule declared-while-down not stored yet'))).toBe(true);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
