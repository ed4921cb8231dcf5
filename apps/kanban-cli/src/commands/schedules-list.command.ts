import { formatTime, renderTable } from '../output';
import type { Command } from './command.interface';

/** `GET /schedules`, one entry. */
export interface ScheduleStatus {
  jobId: string;
  kind: 'interval' | 'cron';
  priority: string;
  domain: string;
  intervalMs?: number;
  cron?: string;
  deadlineMs: number;
  ticks: number;
  published: number;
  skipped: number;
  failed: number;
  lastPublishedAt?: number;
}

function schedulesTable(schedules: ScheduleStatus[]): string {
  if (schedules.length === 0) return 'no schedules';
  return renderTable(
    [
      { header: 'JOB-ID' },
      { header: 'KIND' },
      { header: 'EVERY' },
      { header: 'PRIORITY' },
      { header: 'DOMAIN' },
      { header: 'PUBLISHED', align: 'right' },
      { header: 'SKIPPED', align: 'right' },
      { header: 'FAILED', align: 'right' },
      { header: 'LAST-PUBLISHED' },
    ],
    schedules.map((s) => [
      s.jobId,
      s.kind,
      s.kind === 'interval' ? `${s.intervalMs}ms` : (s.cron ?? '-'),
      s.priority,
      s.domain,
      String(s.published),
      String(s.skipped),
      String(s.failed),
      formatTime(s.lastPublishedAt),
    ]),
  );
}

export const schedulesListCommand: Command = {
  words: ['schedules', 'list'],
  summary: 'the schedules and their ticks as this server saw them',
  usage: '',
  options: {},
  async run({ api, out, input }) {
    input.noPositionals();
    const schedules = await api.get<ScheduleStatus[]>('/schedules');
    out.result(schedules, () => schedulesTable(schedules));
  },
};
