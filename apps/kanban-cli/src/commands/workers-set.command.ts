import type { Command } from './command.interface';
import type { CoordinatorHealth } from './queue-views';

export const workersSetCommand: Command = {
  words: ['workers', 'set'],
  summary: 'set the workers per handler (autoscaling pauses) and restart workers with an open breaker',
  usage: '<count>',
  description: 'The server caps count at its maxWorkers (a larger count is refused, exit 5).',
  options: {},
  async run({ api, out, input }) {
    const count = input.parseInteger('<count>', input.onePositional('count'), 0);
    const health = await api.post<CoordinatorHealth>('/coordinator/workers', { count });
    out.result(health, () => `workers set to ${count} per handler: ${health.current_workers} running, ${health.target_workers} targeted in all; autoscaling paused`);
  },
};
