import type { Command } from './command.interface';
import type { CoordinatorHealth } from './queue-views';

export const drainCommand: Command = {
  words: ['drain'],
  summary: 'stop intake now; in-flight work finishes, then the workers stop (until the server restarts)',
  usage: '',
  description: 'From the answer on, publishes get 503 (exit 4 from `kanban publish`) and `kanban health` reports the queue down.',
  options: {},
  async run({ api, out, input }) {
    input.noPositionals();
    const health = await api.post<CoordinatorHealth>('/coordinator/drain');
    out.result(health, () => 'draining: new work is refused; in-flight work finishes, then the workers stop');
  },
};
