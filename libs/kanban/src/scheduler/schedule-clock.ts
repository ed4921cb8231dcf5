import { CronTime } from 'cron';
import type { ScheduleDefinition } from './schedule-coordination.interface';

/**
 * The first tick time (epoch ms) strictly after `after`. Interval ticks sit on multiples of the
 * interval since the epoch, so every instance computes the same tick times and a hand-over
 * neither repeats nor skips one.
 */
export function nextTickAfter(definition: Pick<ScheduleDefinition, 'kind' | 'intervalMs' | 'cron'>, after: number): number {
  if (definition.kind === 'interval') {
    const interval = definition.intervalMs as number;
    return (Math.floor(after / interval) + 1) * interval;
  }
  return new CronTime(definition.cron as string).getNextDateFrom(new Date(after)).toMillis();
}
