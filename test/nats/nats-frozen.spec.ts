import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { itControllingBrokers, natsBroker, testNamespace, waitFor } from '../harness';
import { Ledger } from '../ledger/ledger';
import { SteadyPublisher } from '../failover/support/steady-publisher';
import { createNatsChaosApp, faultWithSnapshot } from '../chaos/support/nats-app';
import { deleteNatsStreams } from '../failover/support/purge-namespace';
import { drainQueue } from '../chaos/support/queue-drain';
import { FROZEN_MS, itemsThroughFreeze } from '../chaos/support/frozen-load';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const PUBLISH_TIMEOUT_MS = 1_000;
/** Time beyond the publish timeout a refusal may take (timer and event-loop slack). */
const REFUSAL_SLACK_MS = 1_000;
const PUBLISH_RATE_PER_SECOND = 100;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** nats-server is frozen once this many publishes were launched (5 s in), for FROZEN_MS. */
const STOP_AT = 500;
const ITEMS = itemsThroughFreeze(STOP_AT, PUBLISH_RATE_PER_SECOND);
const PHASE_TIMEOUT_MS = 30_000;
const chaos = itControllingBrokers('nats');

describe('NATS: nats-server frozen (SIGSTOP)', () => {
  afterEach(async () => {
    await natsBroker().sigcont();
    await harness.cleanup();
  });

  chaos('refuses publishes within the publish timeout while frozen and takes them again after SIGCONT', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    const domain = testNamespace().domain('frozen');
    await transport.ensureQueue('normal', domain);
    await natsBroker().sigstop();
    const started = performance.now();

    // Act
    const refused = await transport.publish(makeItem({ domain })).then(
      () => undefined,
      (error: unknown) => error,
    );
    const refusedAfterMs = performance.now() - started;
    await natsBroker().sigcont();
    const receipt = await waitFor(() => transport.publish(makeItem({ domain })), { timeoutMs: 20_000, intervalMs: 100, description: 'a publish accepted after SIGCONT' });

    // Assert
    expect(refused).toBeInstanceOf(BrokerUnavailableError);
    expect((refused as Error).message).toContain('outcome is unknown');
    expect(refusedAfterMs).toBeLessThan(PUBLISH_TIMEOUT_MS + REFUSAL_SLACK_MS);
    expect(receipt).toMatchObject({ broker: 'nats', duplicate: false });
  });

  chaos(
    'frozen 30 s under publish and consume load (KanbanModule on NATS): loses nothing acknowledged, drains, duplicates within what was in flight',
    async () => {
      // Arrange
      const namespace = testNamespace();
      const domain = namespace.domain('frozenload');
      const ledger = new Ledger();
      const app = await createNatsChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt), { nats: { servers: [natsBroker().url], publishTimeoutMs: PUBLISH_TIMEOUT_MS } });
      const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), {
        count: ITEMS,
        ratePerSecond: PUBLISH_RATE_PER_SECOND,
        maxInFlight: MAX_PUBLISHES_IN_FLIGHT,
        keyPrefix: 'frozen',
      });
      const publishing = publisher.run();
      try {
        // Act
        await waitFor(() => publisher.launched >= STOP_AT, { timeoutMs: PHASE_TIMEOUT_MS, description: `${STOP_AT} publishes launched` });
        const fault = await faultWithSnapshot(app, domain, () => natsBroker().sigstop());
        const launchedAtStop = publisher.launched;
        await sleep(FROZEN_MS);
        await natsBroker().sigcont();
        const resumedAt = performance.now();
        const launchedWhileFrozen = publisher.launched - launchedAtStop;
        await publishing;
        await drainQueue(app.queue, domain, ledger);

        // Assert
        const summary = ledger.summary();
        const firstAfter = publisher.firstFrom('nats', resumedAt);
        console.log(
          ledger.line('NATS frozen 30 s under load (SIGSTOP nats-server)', {
            inFlightAtFault: fault.inFlight,
            items: ITEMS,
            deliveredAtFault: fault.delivered,
            ackedJustBefore: fault.ackedJustBefore,
            launchedWhileFrozen,
            firstReceiptAfterSigcontMs: Math.round((firstAfter?.resolvedAt ?? Number.NaN) - resumedAt),
            repeatedAttempts: ledger.repeatedAttempts(),
          }),
        );
        expect(summary).toMatchObject({ attempted: ITEMS, lost: 0, unexpected: 0 });
        expect(summary.acknowledged + summary.rejected).toBe(ITEMS);
        expect(summary.rejected).toBeGreaterThan(0);
        // Publishes were refused on their timeout rather than held for the freeze: the producer kept going (at most MAX_PUBLISHES_IN_FLIGHT can wait at once).
        expect(launchedWhileFrozen).toBeGreaterThan(2 * MAX_PUBLISHES_IN_FLIGHT);
        expect(summary.duplicates).toBeLessThanOrEqual(fault.inFlight);
      } finally {
        publisher.stop();
        await natsBroker().sigcont();
        await publishing.catch(() => undefined);
        await app.close();
        await deleteNatsStreams(namespace);
      }
    },
    180_000,
  );
});
