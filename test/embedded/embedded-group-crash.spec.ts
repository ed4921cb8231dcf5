import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TransportDelivery } from '../../libs/kanban/src/interfaces';
import { EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { createEmbeddedHarness } from './embedded-harness';
import { CAPPED_GROUP, CAPPED_MAX_IN_FLIGHT, CRASH_DOMAIN, CRASH_GROUPS, CRASH_SETTINGS, ITEMS_PER_GROUP, LEDGER_PREFIX } from './fixtures/work-groups-until-killed';

const harness = createEmbeddedHarness();
/** Acks confirmed before the kill: the child is then mid-way through the groups, with leases held. */
const ACKED_BEFORE_KILL = 80;
/** The child is killed regardless after this long, so a stuck worker fails the test instead of hanging it. */
const CHILD_TIMEOUT_MS = 30_000;

/** Pulls and acks until a pull comes back empty; every delivery, in order. */
async function drain(transport: EmbeddedTransport): Promise<TransportDelivery[]> {
  const delivered: TransportDelivery[] = [];
  for (let batch = await transport.pull({ domain: CRASH_DOMAIN }, 50, { leaseMs: 60_000, waitMs: 0 }); batch.length > 0;) {
    delivered.push(...batch);
    for (const delivery of batch) await transport.ack(delivery);
    batch = await transport.pull({ domain: CRASH_DOMAIN }, 50, { leaseMs: 60_000, waitMs: 0 });
  }
  return delivered;
}

describe('embedded store groups after kill -9', () => {
  const opened: EmbeddedTransport[] = [];
  afterEach(async () => {
    for (const transport of opened.splice(0)) await transport.close();
    await harness.cleanup();
  });

  it('keeps every group, its limits and its items: each item not acked is handed out exactly once more', async () => {
    // Arrange: a child publishing to four groups (one capped) and working them, killed mid-way
    const path = join(harness.tempDir(), 'kanban.db');
    const child = spawn(process.execPath, ['--require', join(__dirname, 'fixtures/register-swc.js'), join(__dirname, 'fixtures/work-groups-until-killed.ts'), path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    const guard = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const published = new Map<string, string>();
    const acking = new Set<string>();
    const acked = new Set<string>();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(LEDGER_PREFIX.published)) {
        const [id, group] = line.slice(LEDGER_PREFIX.published.length).split(' ');
        published.set(id, group);
      } else if (line.startsWith(LEDGER_PREFIX.acking)) {
        acking.add(line.slice(LEDGER_PREFIX.acking.length));
      } else if (line.startsWith(LEDGER_PREFIX.acked)) {
        acked.add(line.slice(LEDGER_PREFIX.acked.length));
        if (acked.size === ACKED_BEFORE_KILL) child.kill('SIGKILL');
      }
    });
    const [, signal] = await exited;
    clearTimeout(guard);

    // Act
    const transport = new EmbeddedTransport({ path }, CRASH_SETTINGS);
    opened.push(transport);
    await transport.connect();
    const before = await transport.listGroups(CRASH_DOMAIN, {});
    const delivered = await drain(transport);
    const after = await transport.listGroups(CRASH_DOMAIN, {});

    // Assert: the ledger (nothing acked comes back, nothing else is missing, nothing comes twice), per group
    const ids = delivered.map((delivery) => delivery.id);
    const notBeingAcked = [...published.keys()].filter((id) => !acking.has(id));
    expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(published.size).toBe(CRASH_GROUPS.length * ITEMS_PER_GROUP);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => acked.has(id) || !published.has(id))).toEqual([]);
    expect(notBeingAcked.filter((id) => !ids.includes(id))).toEqual([]);
    expect(delivered.filter((d) => !('item' in d) || d.item.group !== published.get(d.id))).toEqual([]);
    const heldPerGroup = Object.fromEntries(before.items.filter((state) => state.ready + state.inFlight > 0).map((state) => [state.group, state.ready + state.inFlight]));
    const deliveredPerGroup: Record<string, number> = {};
    for (const id of ids) deliveredPerGroup[published.get(id) as string] = (deliveredPerGroup[published.get(id) as string] ?? 0) + 1;
    expect(heldPerGroup).toEqual(deliveredPerGroup);
    expect(before.items.filter((state) => state.inFlight > 0)).toEqual([]);
    expect(before.items.find((state) => state.group === CAPPED_GROUP)?.override).toEqual({ maxInFlight: CAPPED_MAX_IN_FLIGHT });
    expect(after.items).toEqual([{ group: CAPPED_GROUP, ready: 0, inFlight: 0, limits: { maxInFlight: CAPPED_MAX_IN_FLIGHT }, override: { maxInFlight: CAPPED_MAX_IN_FLIGHT } }]);
  });
});
