import { pathSegment } from '../http';
import type { Command } from './command.interface';
import { groupDetails, type GroupLimits, type GroupState } from './group-views';

export const groupsLimitsCommand: Command = {
  words: ['groups', 'limits'],
  summary: "set a group's limits for the whole fleet, or --clear them back to the defaults",
  usage: '<domain> <group> [--max-in-flight <n>] [--rate <per-second>] | --clear',
  description: "Limits left out are no limit of the group's own; --clear goes back to the options' defaults. Prints the group's state after the change.",
  options: {
    'max-in-flight': { type: 'string', value: '<n>', description: 'items of the group leased at once, across every worker and instance' },
    rate: { type: 'string', value: '<per-second>', description: 'items of the group handed out per second (fractions allowed)' },
    clear: { type: 'boolean', description: "drop the group's own limits" },
  },
  async run({ api, out, input }) {
    if (input.positionals.length !== 2) throw input.usage(`expected a domain and a group, got ${input.positionals.length} arguments`);
    const [domain, group] = input.positionals;
    const maxInFlight = input.integer('max-in-flight', 1);
    const ratePerSecond = input.positiveNumber('rate');
    const limits: GroupLimits = { ...(maxInFlight !== undefined ? { maxInFlight } : {}), ...(ratePerSecond !== undefined ? { ratePerSecond } : {}) };
    const given = Object.keys(limits).length > 0;
    if (input.flag('clear') && given) throw input.usage('--clear drops every limit of the group: leave out --max-in-flight and --rate');
    if (!input.flag('clear') && !given) throw input.usage('give --max-in-flight, --rate or both, or --clear');
    const path = `/groups/${pathSegment(domain, 'domain', 'groups limits')}/${pathSegment(group, 'group', 'groups limits')}/limits`;
    const state = await api.put<GroupState>(path, limits);
    out.result(state, () => groupDetails(state));
  },
};
