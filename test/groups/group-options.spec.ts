import { KanbanConfigError, resolveKanbanOptions, type KanbanGroupOptions } from '@tps/kanban';

/** Each bad `groups` option, and the setting the KanbanConfigError must name. */
const BAD_GROUP_OPTIONS: Array<[string, KanbanGroupOptions, string]> = [
  ['a zero maxInFlightPerGroup', { maxInFlightPerGroup: 0 }, 'groups.maxInFlightPerGroup'],
  ['a fractional maxInFlightPerGroup', { maxInFlightPerGroup: 1.5 }, 'groups.maxInFlightPerGroup'],
  ['a zero groupRatePerSecond', { groupRatePerSecond: 0 }, 'groups.groupRatePerSecond'],
  ['an infinite groupRatePerSecond', { groupRatePerSecond: Number.POSITIVE_INFINITY }, 'groups.groupRatePerSecond'],
  ['a NaN groupRatePerSecond', { groupRatePerSecond: Number.NaN }, 'groups.groupRatePerSecond'],
  ['a zero window', { window: 0 }, 'groups.window'],
  ['a fractional window', { window: 2.5 }, 'groups.window'],
  ['a metrics flag that is no boolean', { metrics: 'yes' as never }, 'groups.metrics'],
  ['domains given as a list', { domains: [{ maxInFlightPerGroup: 1 }] as never }, 'groups.domains.0'],
  ['a domain key with a dot', { domains: { 'billing.eu': { maxInFlightPerGroup: 1 } } }, 'groups.domains.billing.eu'],
  ['a domain key with an upper-case letter', { domains: { Billing: {} } }, 'groups.domains.Billing'],
  ["a domain's zero maxInFlightPerGroup", { domains: { billing: { maxInFlightPerGroup: 0 } } }, 'groups.domains.billing.maxInFlightPerGroup'],
  ["a domain's negative groupRatePerSecond", { domains: { billing: { groupRatePerSecond: -1 } } }, 'groups.domains.billing.groupRatePerSecond'],
  ["a domain's unknown setting", { domains: { billing: { window: 5 } as never } }, 'groups.domains.billing.window'],
];

function configErrorOf(groups: KanbanGroupOptions): unknown {
  try {
    resolveKanbanOptions({ groups });
    return undefined;
  } catch (caught) {
    return caught;
  }
}

describe('groups options are checked at start-up', () => {
  it.each(BAD_GROUP_OPTIONS)('refuses %s with a KanbanConfigError naming the option', (_label, groups, setting) => {
    // Act
    const error = configErrorOf(groups);

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as KanbanConfigError).setting).toBe(setting);
  });

  it('accepts limits globally and per domain, with the window and metrics defaults filled in', () => {
    // Act
    const resolved = resolveKanbanOptions({ groups: { maxInFlightPerGroup: 5, groupRatePerSecond: 0.5, domains: { billing: { maxInFlightPerGroup: 2, groupRatePerSecond: 20 } } } });

    // Assert
    expect(resolved.groups).toEqual({ maxInFlightPerGroup: 5, groupRatePerSecond: 0.5, window: 100, metrics: false, domains: { billing: { maxInFlightPerGroup: 2, groupRatePerSecond: 20 } } });
  });
});
