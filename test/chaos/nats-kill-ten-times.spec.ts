import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { itControllingBrokers, natsBroker, testNamespace } from '../harness';
import { Ledger } from '../ledger/ledger';
import { SteadyPublisher } from '../failover/support/steady-publisher';
import { createNatsChaosApp, faultWithSnapshot, type FaultSnapshot } from './support/nats-app';
import { deleteNatsStreams } from '../failover/support/purge-namespace';
import { drainQueue } from './support/queue-drain';
import { between, CHAOS_SEED_ENV, chaosSeed, seededRandom } from './support/seeded-random';

const KILLS = 10;
const MIN_INTERVAL_MS = 5_000;
const MAX_INTERVAL_MS = 10_000;
const PUBLISH_RATE_PER_SECOND = 100;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** Publishing goes on this long after the last restart, then stops. */
const AFTER_LAST_FAULT_MS = 3_000;
/** Publishes NATS does not ack within this fail (BrokerUnavailableError), so an outage stays visible to the producer. */
const PUBLISH_TIMEOUT_MS = 1_000;
/** An upper bound for the publisher's count: never reached, the test stops it. */
const MAX_ITEMS = ((KILLS * MAX_INTERVAL_MS + 60_000) * PUBLISH_RATE_PER_SECOND) / 1_000;

const chaos = itControllingBrokers('nats');

describe('chaos: kill -9 of nats-server ten times at random 5–10 s intervals under load', () => {
  chaos(
    'processes every acknowledged item (none dead-lettered), processes nothing unexpected, and duplicates stay within what was in flight at the kills',
    async () => {
      // Arrange
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const intervals = Array.from({ length: KILLS }, () => between(random, MIN_INTERVAL_MS, MAX_INTERVAL_MS));
      console.log(`chaos ten kills: seed=${seed} intervalsMs=${intervals.join(',')} (replay with ${CHAOS_SEED_ENV}=${seed})`);
      const namespace = testNamespace();
      const domain = namespace.domain('tenkills');
      const ledger = new Ledger();
      const app = await createNatsChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt), { nats: { servers: [natsBroker().url], publishTimeoutMs: PUBLISH_TIMEOUT_MS } });
      const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), {
        count: MAX_ITEMS,
        ratePerSecond: PUBLISH_RATE_PER_SECOND,
        maxInFlight: MAX_PUBLISHES_IN_FLIGHT,
        keyPrefix: 'tenkills',
      });
      const publishing = publisher.run();
      const faults: FaultSnapshot[] = [];
      const restartMs: number[] = [];
      try {
        // Act
        let previousKillAt = performance.now();
        for (const interval of intervals) {
          await sleep(Math.max(0, previousKillAt + interval - performance.now()));
          const fault = await faultWithSnapshot(app, domain, () => natsBroker().kill9());
          faults.push(fault);
          previousKillAt = fault.at;
          await natsBroker().restart();
          restartMs.push(Math.round(performance.now() - fault.at));
        }
        await sleep(AFTER_LAST_FAULT_MS);
        publisher.stop();
        await publishing;
        await drainQueue(app.queue, domain, ledger);

        // Assert
        const inFlightAtFault = faults.reduce((sum, fault) => sum + fault.inFlight, 0);
        const summary = ledger.summary();
        console.log(
          ledger.line('chaos ten kills (kill -9 nats-server x10)', {
            inFlightAtFault,
            seed,
            kills: faults.length,
            inFlightPerKill: faults.map((fault) => `${fault.delivered}+${fault.ackedJustBefore}`).join(','),
            restartMs: restartMs.join(','),
            repeatedAttempts: ledger.repeatedAttempts(),
          }),
        );
        expect(faults).toHaveLength(KILLS);
        expect(summary.acknowledged).toBeGreaterThan(0);
        expect(summary.rejected).toBeGreaterThan(0);
        // With lost and acknowledgedDeadLettered at 0, every acknowledged key was processed.
        expect(summary).toMatchObject({ acknowledgedDeadLettered: 0, lost: 0, unexpected: 0 });
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
      } finally {
        publisher.stop();
        await publishing.catch(() => undefined);
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        await app.close();
        await deleteNatsStreams(namespace);
      }
    },
    300_000,
  );
});
