import type { Command } from './command.interface';
import { allDeadLetters, deadLettersTable, type DeadLetterPage } from './dlq-views';

/** What the server returns when no --limit is given. */
const SERVER_DEFAULT_LIMIT = 100;

export const dlqListCommand: Command = {
  words: ['dlq', 'list'],
  summary: 'list dead letters, oldest first, a page at a time or --all',
  usage: '[--domain <domain>] [--reason <reason>] [--limit <n>] [--cursor <cursor> | --all]',
  description: 'Reasons: nack, deadline_exceeded, processing_timeout, stalled, max_attempts, malformed.',
  options: {
    domain: { type: 'string', value: '<domain>', description: 'only this domain' },
    reason: { type: 'string', value: '<reason>', description: 'only this reason' },
    limit: { type: 'string', value: '<n>', description: `letters per page, 1 to 1000 (default ${SERVER_DEFAULT_LIMIT})` },
    cursor: { type: 'string', value: '<cursor>', description: 'the page after the one that printed this cursor' },
    all: { type: 'boolean', description: 'every page' },
  },
  async run({ api, out, input }) {
    input.noPositionals();
    const filter = { domain: input.string('domain'), reason: input.string('reason') };
    if (input.flag('all')) {
      if (input.string('cursor') !== undefined || input.string('limit') !== undefined) throw input.usage('--all reads every page: leave out --limit and --cursor');
      const items = await allDeadLetters(api, filter);
      out.result({ items }, () => deadLettersTable(items));
      return;
    }
    const limit = input.integer('limit', 1);
    const page = await api.get<DeadLetterPage>('/dead-letters', { query: { ...filter, limit, cursor: input.string('cursor') } });
    out.result(page, () => {
      if (page.nextCursor === undefined) return deadLettersTable(page.items);
      const filters = [filter.domain && `--domain ${filter.domain}`, filter.reason && `--reason ${filter.reason}`, limit && `--limit ${limit}`].filter(Boolean).join(' ');
      return `${deadLettersTable(page.items)}\n\nmore: kanban dlq list ${filters ? `${filters} ` : ''}--cursor ${page.nextCursor}`;
    });
  },
};
