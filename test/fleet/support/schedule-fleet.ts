import { ChildApp } from '../../chaos/support/child-app';
import type { ScheduleInstanceConfig } from '../fixtures/schedule-instance';

/** Relative to test/chaos/fixtures, where ChildApp looks. */
const FIXTURE = '../../fleet/fixtures/schedule-instance.ts';
/** How long a drain through one instance may take. */
const DRAIN_TIMEOUT_MS = 30_000;

/** `count` instances of the schedule fixture, each declaring the same schedule. */
export function startScheduleFleet(config: ScheduleInstanceConfig, count: number): ChildApp[] {
  return Array.from({ length: count }, () => new ChildApp(FIXTURE, config));
}

/** Pulls every item of the domain through `reader` and returns their tick times. */
export async function drainTicks(reader: ChildApp): Promise<number[]> {
  const before = reader.count('drain-done');
  reader.send('drain');
  await reader.waitForLine('drain-done', DRAIN_TIMEOUT_MS, before + 1);
  return reader.linesOf('tick').map(([, time]) => Number(time));
}
