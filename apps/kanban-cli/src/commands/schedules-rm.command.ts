import { pathSegment } from '../http';
import type { Command } from './command.interface';

export const schedulesRmCommand: Command = {
  words: ['schedules', 'rm'],
  summary: 'cancel a schedule everywhere; no more ticks fire',
  usage: '<jobId>',
  description: 'An unknown jobId is exit 2.',
  options: {},
  async run({ api, out, input }) {
    const jobId = input.onePositional('jobId');
    await api.delete(`/schedules/${pathSegment(jobId, 'jobId', 'schedules rm')}`);
    out.result({ jobId, removed: true }, () => `removed ${jobId}`);
  },
};
