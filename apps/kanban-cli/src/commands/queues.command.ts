import type { Command } from './command.interface';
import { queuesTable, type QueuesView } from './queue-views';

export const queuesCommand: Command = {
  words: ['queues'],
  summary: "depth per broker, priority and domain, from the coordinator's latest sample",
  usage: '',
  options: {},
  async run({ api, out, input }) {
    input.noPositionals();
    const view = await api.get<QueuesView>('/queues');
    out.result(view, () => queuesTable(view));
  },
};
