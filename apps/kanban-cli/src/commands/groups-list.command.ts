import { pathSegment } from '../http';
import type { Command } from './command.interface';
import { groupsTable, type GroupPage } from './group-views';

export const groupsListCommand: Command = {
  words: ['groups'],
  summary: 'the groups of a domain: ready, in flight and the limits in force, a page at a time',
  usage: '<domain> [--limit <n>] [--cursor <cursor>]',
  description: "Lists the groups that hold items or limits of their own, by name. `kanban groups limits` sets a group's limits.",
  options: {
    limit: { type: 'string', value: '<n>', description: 'groups per page, 1 to 1000 (default 100)' },
    cursor: { type: 'string', value: '<cursor>', description: 'the page after the one that printed this cursor' },
  },
  async run({ api, out, input }) {
    const domain = input.onePositional('domain');
    const limit = input.integer('limit', 1);
    const page = await api.get<GroupPage>(`/groups/${pathSegment(domain, 'domain', 'groups')}`, { query: { limit, cursor: input.string('cursor') } });
    out.result(page, () => {
      if (page.nextCursor === undefined) return groupsTable(page.items);
      return `${groupsTable(page.items)}\n\nmore: kanban groups ${domain}${limit ? ` --limit ${limit}` : ''} --cursor ${page.nextCursor}`;
    });
  },
};
