import { pathSegment } from '../http';
import { renderTable } from '../output';
import type { Command } from './command.interface';
import { bulkExitCode, progressFor, runBulk } from './dlq-bulk';
import { SELECTION_OPTIONS, selectDeadLetters } from './dlq-selection';

interface Replayed {
  /** The dead letter's id. */
  id: string;
  /** The new item's id. */
  itemId: string;
  broker: string;
}

export const dlqReplayCommand: Command = {
  words: ['dlq', 'replay'],
  summary: 'publish dead letters again as new items (attempts from 1); each leaves the dead-letter queue',
  usage: '<id>... | --all [--domain <domain>] [--reason <reason>]',
  description:
    'A letter replayed twice at once (two operators, two instances) still publishes one item. --all shows its progress on stderr and stops at the first error other than a letter already gone.',
  options: SELECTION_OPTIONS,
  async run({ api, out, input }) {
    const selection = await selectDeadLetters(api, input);
    const outcome = await runBulk(
      selection.ids,
      async (id): Promise<Replayed> => {
        const receipt = await api.post<{ id: string; broker: string }>(`/dead-letters/${pathSegment(id, 'dead letter id', 'dlq replay')}/replay`);
        return { id, itemId: receipt.id, broker: receipt.broker };
      },
      progressFor(out, selection, 'replay'),
    );
    out.result({ replayed: outcome.done, gone: outcome.gone, remaining: outcome.remaining }, () => {
      const table = outcome.done.length
        ? `${renderTable(
            [{ header: 'DEAD-LETTER' }, { header: 'NEW-ITEM' }, { header: 'BROKER' }],
            outcome.done.map((r) => [r.id, r.itemId, r.broker]),
          )}\n\n`
        : '';
      return `${table}replayed ${outcome.done.length} of ${selection.ids.length} dead letters`;
    });
    return bulkExitCode(out, selection, outcome);
  },
};
