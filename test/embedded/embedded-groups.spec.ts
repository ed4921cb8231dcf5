import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeItem } from '../../libs/kanban/src/codec';
import { newItemId } from '../../libs/kanban/src/codec/item-id';
import { KanbanValidationError } from '../../libs/kanban/src/errors';
import type { QueueRef, TransportDelivery, WorkItem } from '../../libs/kanban/src/interfaces';
import { replayIdempotencyKey } from '../../libs/kanban/src/transport';
import { EMBEDDED_SCHEMA_VERSION, EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { EmbeddedGroupStore } from '../../libs/kanban/src/transports/embedded/embedded-group-store';
import { EmbeddedItemStore } from '../../libs/kanban/src/transports/embedded/embedded-item-store';
import { EVENTUALLY_MS, LONG_LEASE_MS, contractSettings, makeItem, publishAll } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();
const DOMAIN = 'orders';
const QUEUE: QueueRef = { domain: DOMAIN, priority: 'normal' };
const HEAVY_ITEMS = 100_000;
const LIGHT_GROUPS = 10_000;
/** Pull size while walking the 10,000 groups: fewer commits, the same round. */
const ROUND_PULL_SIZE = 100;
/** Far longer than the test may take: a pull that resolves before it was woken, not timed out. */
const WAIT_LONGER_THAN_THE_TEST_MS = 120_000;

function groupOf(delivery: TransportDelivery): string | undefined {
  return 'item' in delivery ? delivery.item.group : undefined;
}

/** Rows written by a second connection in one transaction, as a foreign writer would (fast at 100,000). */
function insertRows(path: string, items: WorkItem[], withGroupColumn = true): void {
  const db = new Database(path);
  try {
    const insert = withGroupColumn
      ? db.prepare('INSERT INTO kanban_items (id, priority, domain, grp, body) VALUES (@id, @priority, @domain, @grp, @body)')
      : db.prepare('INSERT INTO kanban_items (id, priority, domain, body) VALUES (@id, @priority, @domain, @body)');
    db.transaction(() => {
      for (const item of items) {
        insert.run({ id: item.id, priority: item.priority, domain: item.domain, body: encodeItem(item), ...(withGroupColumn ? { grp: item.group ?? '' } : {}) });
      }
    })();
  } finally {
    db.close();
  }
}

/** Resolves with `promise`, or fails once `ms` passed: bounds a wait without sleeping. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('embedded store groups', () => {
  const opened: EmbeddedTransport[] = [];
  afterEach(async () => {
    for (const transport of opened.splice(0)) await transport.close();
    await harness.cleanup();
  });

  it('opens a version-1 store file with its items kept, in the default group, which takes turns with new groups', async () => {
    // Arrange: a file as the library before groups wrote it
    const path = join(harness.tempDir(), 'kanban.db');
    const legacy = new Database(path);
    legacy.exec(readFileSync(join(__dirname, 'fixtures/schema-v1.sql'), 'utf8'));
    legacy.close();
    const old = [makeItem({ payload: { n: 0 } }), makeItem({ payload: { n: 1 } }), makeItem({ payload: { n: 2 } })];
    insertRows(path, old, false);

    // Act
    const transport = new EmbeddedTransport({ path }, contractSettings());
    opened.push(transport);
    await transport.connect();
    const listed = await transport.listGroups(DOMAIN, {});
    const fresh = makeItem({ group: 'fresh' });
    await transport.publish(fresh);
    const pulled = [...(await transport.pull(QUEUE, 2, { leaseMs: LONG_LEASE_MS, waitMs: 0 })), ...(await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 }))];
    await transport.close();
    const reread = new Database(path, { readonly: true });
    const version = reread.pragma('user_version', { simple: true });
    reread.close();

    // Assert
    expect(version).toBe(EMBEDDED_SCHEMA_VERSION);
    expect(listed).toEqual({ items: [{ group: '', ready: 3, inFlight: 0, limits: {} }] });
    expect(
      pulled
        .slice(0, 2)
        .map((d) => groupOf(d) ?? '(default)')
        .sort(),
    ).toEqual(['(default)', 'fresh']);
    expect(pulled.map((d) => d.id).sort()).toEqual([...old, fresh].map((item) => item.id).sort());
  });

  it('hands out round-robin over 10,000 groups beside one holding 100,000 items, reading the round through indexes only', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const heavy = Array.from({ length: HEAVY_ITEMS }, (_, n) => makeItem({ group: 'heavy', payload: { n } }));
    const light = Array.from({ length: LIGHT_GROUPS }, (_, n) => makeItem({ group: `light-${n}`, payload: { n } }));
    insertRows(harness.pathOf(transport), [...heavy, ...light]);

    // Act: one full round, pulled a hundred at a time and acked
    const round: TransportDelivery[] = [];
    while (round.length < LIGHT_GROUPS + 1) {
      const batch = await transport.pull(QUEUE, Math.min(ROUND_PULL_SIZE, LIGHT_GROUPS + 1 - round.length), { leaseMs: LONG_LEASE_MS, waitMs: 0 });
      if (batch.length === 0) break;
      round.push(...batch);
      await Promise.all(batch.map((delivery) => transport.ack(delivery)));
    }
    const inspector = new Database(harness.pathOf(transport), { readonly: true });
    const plans = [EmbeddedGroupStore.CANDIDATES_SQL, EmbeddedGroupStore.MARK_SERVED_SQL, EmbeddedGroupStore.IN_FLIGHT_SQL, EmbeddedItemStore.HEAD_SQL].map((sql) =>
      (
        inspector.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ priority: 'normal', domain: DOMAIN, grp: 'heavy', served: 0, limit: 1, boot: 'b', now: 0, maxAttempts: 3 }) as Array<{ detail: string }>
      ).map((row) => row.detail),
    );
    inspector.close();
    const page = await transport.listGroups(DOMAIN, { limit: 2 });

    // Assert: every group once, the heavy one first (it joined the round first), no full scan anywhere
    expect(round).toHaveLength(LIGHT_GROUPS + 1);
    expect(new Set(round.map(groupOf)).size).toBe(LIGHT_GROUPS + 1);
    expect(groupOf(round[0])).toBe('heavy');
    expect(plans.flat().filter((step) => !/^(SEARCH .* USING (COVERING )?(INDEX|PRIMARY KEY)|SCALAR SUBQUERY)/.test(step))).toEqual([]);
    expect(plans.map((plan) => plan[0])).toEqual([
      expect.stringContaining('kanban_groups_next'),
      expect.stringContaining('PRIMARY KEY'),
      expect.stringContaining('kanban_items_leased_by_group'),
      expect.stringContaining('kanban_items_by_group'),
    ]);
    expect(page.items).toEqual([{ group: 'heavy', ready: HEAVY_ITEMS - 1, inFlight: 0, limits: {} }]);
  });

  it('wakes a pull waiting on a group at its maxInFlight when one of its items is settled', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    await transport.setGroupLimits(DOMAIN, 'capped', { maxInFlight: 1 });
    await publishAll(transport, [makeItem({ group: 'capped', payload: { n: 0 } }), makeItem({ group: 'capped', payload: { n: 1 } })]);
    const [first] = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    const waiting = transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: WAIT_LONGER_THAN_THE_TEST_MS });

    // Act
    await transport.ack(first);
    const next = await within('the waiting pull taking the next capped item', EVENTUALLY_MS, waiting);

    // Assert
    expect(next.map(groupOf)).toEqual(['capped']);
    expect(next[0].id).not.toBe(first.id);
  });

  it("wakes a pull waiting on a rate-limited group when the group's next token is due", async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    await transport.setGroupLimits(DOMAIN, 'paced', { ratePerSecond: 2 });
    await publishAll(transport, [makeItem({ group: 'paced', payload: { n: 0 } }), makeItem({ group: 'paced', payload: { n: 1 } })]);
    const first = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });

    // Act
    const second = await within('the next token', EVENTUALLY_MS, transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: WAIT_LONGER_THAN_THE_TEST_MS }));

    // Assert: one per token
    expect(first.map(groupOf)).toEqual(['paced']);
    expect(second.map(groupOf)).toEqual(['paced']);
  });

  it("keeps a rate-limited group's spent token across a reopen", async () => {
    // Arrange: one item per five seconds, the first one taken
    const settings = contractSettings();
    const transport = await harness.create(settings);
    await transport.setGroupLimits(DOMAIN, 'paced', { ratePerSecond: 0.2 });
    await publishAll(transport, [makeItem({ group: 'paced', payload: { n: 0 } }), makeItem({ group: 'paced', payload: { n: 1 } })]);
    const first = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    await transport.ack(first[0]);

    // Act
    const reopened = await harness.reopen(transport, settings);
    const afterReopen = await reopened.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    const listed = await reopened.listGroups(DOMAIN, {});

    // Assert
    expect(afterReopen).toEqual([]);
    expect(listed.items).toEqual([{ group: 'paced', ready: 1, inFlight: 0, limits: { ratePerSecond: 0.2 }, override: { ratePerSecond: 0.2 } }]);
  });

  it('keeps a group through retry, the stalled sweep and a replay, and drops it once its items are settled', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    await publishAll(transport, [makeItem({ group: 'tenant', payload: { n: 0 } }), makeItem({ group: 'tenant', payload: { n: 1 } })]);
    const [retried, stalled] = await transport.pull(QUEUE, 2, { leaseMs: LONG_LEASE_MS, waitMs: 0 });

    // Act
    await transport.retry(retried, 0);
    const [letter] = await transport.sweepStalled(0);
    const afterSweep = await transport.listGroups(DOMAIN, {});
    await transport.replayDeadLetter(letter.id, async (dead) => ({ ...(dead.item as WorkItem), id: newItemId(), idempotencyKey: replayIdempotencyKey(dead.id) }));
    const afterReplay = await transport.listGroups(DOMAIN, {});
    const again = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    for (const delivery of again) await transport.ack(delivery);
    const settled = await transport.listGroups(DOMAIN, {});

    // Assert
    expect(letter.id).toBe(stalled.id);
    expect(afterSweep.items).toEqual([{ group: 'tenant', ready: 1, inFlight: 0, limits: {} }]);
    expect(afterReplay.items).toEqual([{ group: 'tenant', ready: 2, inFlight: 0, limits: {} }]);
    expect(again.map(groupOf)).toEqual(['tenant', 'tenant']);
    expect(settled.items).toEqual([]);
  });

  it('refuses limits that are not positive and a cursor it did not hand out', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());

    // Act
    const refusals = await Promise.all([
      transport.setGroupLimits(DOMAIN, 'tenant', { maxInFlight: 0 }).catch((error: unknown) => error),
      transport.setGroupLimits(DOMAIN, 'tenant', { ratePerSecond: -1 }).catch((error: unknown) => error),
      transport.setGroupLimits(DOMAIN, 'Not A Group', { maxInFlight: 1 }).catch((error: unknown) => error),
      transport.listGroups(DOMAIN, { cursor: 'not-a-cursor' }).catch((error: unknown) => error),
    ]);

    // Assert
    expect(refusals.map((error) => error instanceof KanbanValidationError)).toEqual([true, true, true, true]);
    expect((await transport.listGroups(DOMAIN, {})).items).toEqual([]);
  });
});
