import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { jetstreamManager } from '@nats-io/jetstream';
import { isMalformed } from '../../libs/kanban/src/interfaces';
import { contractSettings, EVENTUALLY_MS, expectDepth, LONG_LEASE_MS, makeItem } from '../contract/contract-helpers';
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
const FROZEN_PULL_ITEMS = 60;
const FROZEN_PULL_PAYLOAD_CHARS = 400_000;

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

  chaos('hands out every item of a pull answer the freeze cut in two, as the same attempt', async () => {
    // Arrange: large items, so the answer is still on its way when the server stops.
    const transport = await harness.create(contractSettings());
    const domain = testNamespace().domain('frozenpull');
    const blob = 'x'.repeat(FROZEN_PULL_PAYLOAD_CHARS);
    const items = Array.from({ length: FROZEN_PULL_ITEMS }, (_, n) => makeItem({ domain, payload: { n, blob } }));
    for (const item of items) await transport.publish(item);
    const jsm = await jetstreamManager(await harness.rawClient());
    const prefix = harness.prefixOf(transport);
    const queue = { domain, priority: 'normal' } as const;

    // Act
    const cutShort = transport.pull(queue, FROZEN_PULL_ITEMS, { leaseMs: LONG_LEASE_MS, waitMs: 0 });
    await waitFor(async () => (await jsm.consumers.info(`${prefix}_NORMAL_${domain}`, `${prefix}_worker`)).num_ack_pending > 0, {
      timeoutMs: EVENTUALLY_MS,
      intervalMs: 0,
      description: 'the pull answered',
    });
    await natsBroker().sigstop();
    const delivered = [...(await cutShort)];
    await natsBroker().sigcont();
    for (const delivery of delivered) await transport.ack(delivery);
    await waitFor(
      async () => {
        const batch = await transport.pull(queue, FROZEN_PULL_ITEMS, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
        for (const delivery of batch) await transport.ack(delivery);
        delivered.push(...batch);
        return delivered.length >= FROZEN_PULL_ITEMS;
      },
      { timeoutMs: EVENTUALLY_MS, intervalMs: 0, description: `${FROZEN_PULL_ITEMS} deliveries within ${EVENTUALLY_MS} ms of SIGCONT (JetStream's own redelivery comes after ${LONG_LEASE_MS} ms)` },
    );

    // Assert
    expect(delivered.map((delivery) => delivery.id).sort()).toEqual(items.map((item) => item.id).sort());
    expect(delivered.map((delivery) => (isMalformed(delivery) ? undefined : delivery.item.attempts))).toEqual(items.map(() => 1));
    await expectDepth(transport, 'normal', domain, { ready: 0, inFlight: 0 });
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
