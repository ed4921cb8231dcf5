import { itControllingBrokers, natsBroker, testNamespace, waitFor } from '../harness';
import { drainQueue } from '../chaos/support/queue-drain';
import { GROUPED_KILL, KillLedger } from '../chaos/support/kill-ledger';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
/** The leader's pass (every 300 ms) drops slots acknowledged before the kill within this. */
const ACKNOWLEDGED_SLOTS_DROPPED_MS = 5_000;

const chaos = itControllingBrokers('nats');

describe('NATS groups: kill -9 of nats-server', () => {
  afterEach(() => harness.cleanup());

  chaos(
    'keeps every grouped item whose publish resolved: each is handed out and acked, none lost, backlogs and caps intact after the restart',
    async () => {
      // Arrange
      const transport = await harness.create(KillLedger.settings, { publishTimeoutMs: GROUPED_KILL.publishTimeoutMs });
      const domain = testNamespace().domain('groupkill');
      const run = new KillLedger(transport, domain);
      // Caps below the window: the kill finds items in slots and in backlogs.
      await run.capGroups();
      run.startWorkers();

      try {
        // Act
        const heldOrAckedAtKill = await run.publishThrough({ kill: () => natsBroker().kill9(), restart: () => natsBroker().restart() });
        await drainQueue(transport, domain, run.ledger);
        await run.stopWorkers();

        // Assert
        // Held, acked too shortly before to have landed, or being moved from a backlog (one move per group at a time).
        await run.expectNoneLost('NATS groups: kill -9 of nats-server', heldOrAckedAtKill + GROUPED_KILL.groups);
        const busyGroups = async () => (await transport.listGroups(domain, { limit: 1_000 })).items.filter((group) => group.ready + group.inFlight > 0);
        // Slots acknowledged before the kill yet still stored after the restart are dropped by the leader's next pass.
        await waitFor(async () => (await busyGroups()).length === 0, { timeoutMs: ACKNOWLEDGED_SLOTS_DROPPED_MS, intervalMs: 50, description: 'acknowledged slots dropped' }).catch(() => undefined);
        expect(await busyGroups()).toEqual([]);
      } finally {
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        await run.stopWorkers();
      }
    },
    240_000,
  );
});
