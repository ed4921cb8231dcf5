import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import { KanbanModule, KanbanQueue, KanbanScheduler } from '@tps/kanban';
import { waitFor } from '../harness';

const APP_TICK_MS = 100;
const TICKS_OBSERVED = 6;
/** Two timers registered for one @Interval start in the same instant, so their fires are this close or closer. */
const SAME_TICK_MS = APP_TICK_MS / 2;

const fires: number[] = [];

@Injectable()
class AppHeartbeat {
  @Interval(APP_TICK_MS)
  beat() {
    fires.push(performance.now());
  }
}

describe('an app with its own ScheduleModule.forRoot() and kanban', () => {
  let dir: string;
  let app: INestApplicationContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-app-schedule-'));
    @Module({
      imports: [ScheduleModule.forRoot(), KanbanModule.forRoot({ embedded: { path: join(dir, 'kanban.db') }, autoscale: false })],
      providers: [AppHeartbeat],
    })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fires the app's @Interval job once per tick", async () => {
    // Arrange
    fires.length = 0;

    // Act
    await waitFor(() => fires.length >= TICKS_OBSERVED, { timeoutMs: 10_000, description: `${TICKS_OBSERVED} app ticks` });

    // Assert
    const gaps = fires.slice(1, TICKS_OBSERVED).map((at, i) => at - fires[i]);
    expect(gaps.filter((gap) => gap < SAME_TICK_MS)).toEqual([]);
  });

  it("still runs kanban's own periodic schedules", async () => {
    // Arrange
    const scheduler = app.get(KanbanScheduler);
    const queue = app.get(KanbanQueue);

    // Act
    const jobId = await scheduler.schedulePeriodic('normal', 'app-reports', 50, 10_000, 'tick');
    await waitFor(async () => (await queue.getMetrics()).published >= 2, { timeoutMs: 5_000, description: '2 kanban ticks published' });
    await scheduler.cancelSchedule(jobId);

    // Assert
    expect(scheduler.list()).toEqual([]);
  });
});
