import { KanbanGroups, KanbanValidationError, type FieldError } from '@tps/kanban';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from '../library/support/kanban-test-app';

/** The fields a KanbanValidationError names, or the error itself when it is none. */
async function refusedFields(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return 'accepted';
  } catch (error) {
    return error instanceof KanbanValidationError ? error.errors.map((e: FieldError) => e.field).sort() : error;
  }
}

describe('KanbanGroups: run-time limits and listings of the groups of a domain', () => {
  let app: KanbanTestApp;
  let groups: KanbanGroups;

  beforeAll(async () => {
    app = await createKanbanTestApp({ options: { startWorkers: false, groups: { maxInFlightPerGroup: 50, domains: { limited: { maxInFlightPerGroup: 3, groupRatePerSecond: 10 } } } } });
    groups = app.module.get(KanbanGroups);
  });

  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['a domain with a dot', ['billing.eu', 'merchant-1', {}], ['domain']],
    ['a group with a space', ['billing', 'merchant 1', {}], ['group']],
    ['a zero maxInFlight', ['billing', 'merchant-1', { maxInFlight: 0 }], ['maxInFlight']],
    ['a fractional maxInFlight', ['billing', 'merchant-1', { maxInFlight: 1.5 }], ['maxInFlight']],
    ['an infinite ratePerSecond', ['billing', 'merchant-1', { ratePerSecond: Number.POSITIVE_INFINITY }], ['ratePerSecond']],
    ['a ratePerSecond given as text', ['billing', 'merchant-1', { ratePerSecond: '5' }], ['ratePerSecond']],
    ['an unknown limit', ['billing', 'merchant-1', { maxInFlightPerGroup: 5 }], ['maxInFlightPerGroup']],
    ['limits that are no object', ['billing', 'merchant-1', null], ['limits']],
    ['every field wrong at once', ['Billing', '-', { maxInFlight: -1, ratePerSecond: 0 }], ['domain', 'group', 'maxInFlight', 'ratePerSecond']],
  ] as Array<[string, [string, string, unknown], string[]]>)('refuses %s in setGroupLimits, naming each bad field', async (_label, [domain, group, limits], fields) => {
    // Act
    const refused = await refusedFields(() => groups.setGroupLimits(domain, group, limits as never));

    // Assert
    expect(refused).toEqual(fields);
  });

  it.each([
    ['a domain with a wildcard', 'billing.*', {}, ['domain']],
    ['a zero limit', 'billing', { limit: 0 }, ['limit']],
    ['a limit above the largest page', 'billing', { limit: 1_001 }, ['limit']],
    ['an empty cursor', 'billing', { cursor: '' }, ['cursor']],
  ] as Array<[string, string, object, string[]]>)('refuses %s in listGroups, naming each bad field', async (_label, domain, filter, fields) => {
    // Act
    const refused = await refusedFields(() => groups.listGroups(domain, filter));

    // Assert
    expect(refused).toEqual(fields);
  });

  it("sets a group's limits, answers its state with them, lists it, and clears them back to the domain's defaults with {}", async () => {
    // Arrange
    for (const group of ['merchant-a', 'merchant-a', 'merchant-b']) {
      await app.queue.publish({ priority: 'normal', domain: 'limited', group, payload: {}, deadline: inFuture() });
    }

    // Act
    const set = await groups.setGroupLimits('limited', 'merchant-a', { maxInFlight: 1, ratePerSecond: 2.5 });
    const listed = await groups.listGroups('limited', {});
    const cleared = await groups.setGroupLimits('limited', 'merchant-a', {});

    // Assert
    expect(set).toEqual({ group: 'merchant-a', ready: 2, inFlight: 0, limits: { maxInFlight: 1, ratePerSecond: 2.5 }, override: { maxInFlight: 1, ratePerSecond: 2.5 } });
    expect(listed.items.map(({ group, ready }) => ({ group, ready }))).toEqual([
      { group: 'merchant-a', ready: 2 },
      { group: 'merchant-b', ready: 1 },
    ]);
    expect(cleared).toEqual({ group: 'merchant-a', ready: 2, inFlight: 0, limits: { maxInFlight: 3, ratePerSecond: 10 } });
  });

  it('answers the defaults in force for a group that holds nothing and has no limits of its own', async () => {
    // Act
    const state = await groups.setGroupLimits('idle-domain', 'merchant-z', {});

    // Assert
    expect(state).toEqual({ group: 'merchant-z', ready: 0, inFlight: 0, limits: { maxInFlight: 50 } });
  });
});
