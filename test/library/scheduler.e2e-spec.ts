import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler, KanbanValidationError, ScheduleNotFoundError } from '@tps/kanban';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const REPORTS = namespace.domain('reports');
import { HandledLog } from './support/recording-handler';

const reports = new HandledLog();

@Injectable()
class ReportConsumer {
  @KanbanHandler({ domain: REPORTS })
  handle(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    reports.record(payload, context);
  }
}

describe.each(TRANSPORTS)('scheduler periodic jobs (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    reports.runs.length = 0;
    app = await createKanbanTestApp({ transport, providers: [ReportConsumer], options: { maxWorkers: 1, autoscale: false, highWatermark: 5, coordinatorCheckIntervalMs: 60_000 } });
  });
  afterAll(() => app.close());

  it('publishes on every interval tick until cancelled', async () => {
    // Arrange
    const jobId = await app.scheduler.schedulePeriodic('normal', REPORTS, 100, 10_000, { report: 'daily' });

    // Act
    await waitFor(() => reports.runs.length >= 3, { timeoutMs: 5_000, description: '3 ticks handled' });
    await app.scheduler.cancelSchedule(jobId);
    const published = (await app.queue.getMetrics()).published;
    await sleep(300);

    // Assert
    expect(reports.runs.slice(0, 3).map((r) => r.payload)).toEqual([{ report: 'daily' }, { report: 'daily' }, { report: 'daily' }]);
    expect((await app.queue.getMetrics()).published).toBe(published);
    expect(() => app.scheduler.get(jobId)).toThrow(ScheduleNotFoundError);
  });

  it('publishes on a cron expression', async () => {
    const before = reports.runs.length;
    const jobId = await app.scheduler.scheduleCron('low', REPORTS, '* * * * * *', 10_000, 'cron');
    await waitFor(() => reports.runs.slice(before).some((r) => r.payload === 'cron'), { timeoutMs: 5_000, description: 'a cron tick handled' });
    await app.scheduler.cancelSchedule(jobId);
    expect(app.scheduler.list()).toEqual([]);
  });

  it('skips ticks while the queue is above the high watermark, and stretches when asked to', async () => {
    // Arrange
    await app.pool.stop(REPORTS);
    for (let i = 0; i < 10; i++) await app.queue.publish({ priority: 'high', domain: REPORTS, payload: i, deadline: inFuture() });
    const skip = await app.scheduler.schedulePeriodic('high', REPORTS, 50, 10_000, 'skipped?');
    const stretch = await app.scheduler.schedulePeriodic('high', REPORTS, 50, 10_000, 'stretched?', { whenBusy: 'stretch' });

    // Act
    // A tick that comes while the previous one still reads depth is dropped, so the two schedules count ticks at their own pace.
    await waitFor(() => app.scheduler.get(skip).ticks >= 8 && app.scheduler.get(stretch).stretch === 8, { timeoutMs: 5_000, description: '8 skipped ticks and the longest stretch' });

    // Assert
    expect(app.scheduler.get(skip)).toMatchObject({ published: 0 });
    expect(app.scheduler.get(skip).skipped).toBe(app.scheduler.get(skip).ticks);
    expect(app.scheduler.get(stretch)).toMatchObject({ published: 0, stretch: 8 });
    await app.scheduler.cancelSchedule(skip);
    await app.scheduler.cancelSchedule(stretch);
  });

  it('rejects bad schedules with every bad field', async () => {
    const error = await app.scheduler.schedulePeriodic('urgent' as never, 'a.b', 0, -1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KanbanValidationError);
    expect((error as KanbanValidationError).errors.map((e) => e.field)).toEqual(['priority', 'domain', 'deadlineMs', 'intervalMs']);
    await expect(app.scheduler.scheduleCron('high', REPORTS, 'every tuesday', 1000)).rejects.toThrow(/cron/);
  });

  it('a canary reports its outcome and latency in the coordinator health', async () => {
    app.pool.start(REPORTS);
    const canary = await app.scheduler.scheduleCanary(REPORTS, { probe: true });
    const settled = await waitFor(() => app.coordinator.getHealth().canaries.find((c) => c.itemId === canary.itemId && c.status !== 'pending'), { timeoutMs: 10_000, description: 'canary settled' });
    expect(settled).toMatchObject({ status: 'acked', domain: REPORTS, broker: app.kind });
    expect(settled.latencyMs).toBeGreaterThanOrEqual(0);
  });
});
