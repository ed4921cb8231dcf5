import { pathSegment } from '../http';
import type { Command } from './command.interface';
import { bulkExitCode, progressFor, runBulk } from './dlq-bulk';
import { SELECTION_OPTIONS, selectDeadLetters } from './dlq-selection';

export const dlqPurgeCommand: Command = {
  words: ['dlq', 'purge'],
  summary: 'delete dead letters for good',
  usage: '<id>... | --all [--domain <domain>] [--reason <reason>] --yes',
  description: '--all needs --yes: the letters and their payloads cannot be brought back. It shows its progress on stderr and stops at the first error other than a letter already gone.',
  options: {
    ...SELECTION_OPTIONS,
    yes: { type: 'boolean', description: 'confirm --all' },
  },
  async run({ api, out, input }) {
    if (input.flag('all') && !input.flag('yes')) throw input.usage('purge --all deletes every matching dead letter for good: add --yes');
    const selection = await selectDeadLetters(api, input);
    const outcome = await runBulk(
      selection.ids,
      async (id) => {
        await api.delete(`/dead-letters/${pathSegment(id, 'dead letter id', 'dlq purge')}`);
        return id;
      },
      progressFor(out, selection, 'purge'),
    );
    out.result({ purged: outcome.done, gone: outcome.gone, remaining: outcome.remaining }, () => `purged ${outcome.done.length} of ${selection.ids.length} dead letters`);
    return bulkExitCode(out, selection, outcome);
  },
};
