import { performance } from 'node:perf_hooks';
import type { Delivery, WorkItem } from '../../libs/kanban/src/interfaces';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { ACK_IN_FLIGHT_WINDOW_MS } from '../failover/support/duplicates';
import { itControllingBrokers, natsBroker, testNamespace, waitFor } from '../harness';
import { Ledger } from '../ledger/ledger';
import { busyRows, drainQueue } from '../chaos/support/queue-drain';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const ITEMS = 5_000;
/** Publishes in flight at once. */
const PUBLISH_CONCURRENCY = 20;
const WORKERS = 4;
const PULL_SIZE = 50;
/** The broker dies once this many publishes resolved, and stays down for OUTAGE_PUBLISHES attempts. */
const KILL_AFTER = 1_500;
const OUTAGE_PUBLISHES = 200;
/** Worker leases: deliveries whose ack died with the broker come back after this (plus the backoff). */
const LEASE_MS = 5_000;
/** Publishes fail fast while the broker is down, so the outage stays short. */
const PUBLISH_TIMEOUT_MS = 500;
/** Pause of a producer lane after a refused publish. */
const PRODUCER_ERROR_BACKOFF_MS = 100;
/** Pause of a worker after a failed pull or ack (the broker is down), so it does not spin. */
const WORKER_ERROR_BACKOFF_MS = 100;
/** Workers give up after this whatever happens, so a failing test cannot keep Jest alive. */
const WORKER_DEADLINE_MS = 240_000;

/** What the workers hold: keys delivered and not acked, and when each ack landed. */
class Holdings {
  readonly held = new Set<string>();
  readonly ackTimes: number[] = [];
  /** Keys held at any moment while a fault window is open. */
  private window?: Set<string>;
  pullErrors = 0;
  ackErrors = 0;

  take(key: string): void {
    this.held.add(key);
    this.window?.add(key);
  }

  acked(key: string): void {
    this.held.delete(key);
    this.ackTimes.push(performance.now());
  }

  openWindow(): void {
    this.window = new Set(this.held);
  }

  /** Keys held while the window was open, plus acks landed in the ACK_IN_FLIGHT_WINDOW_MS before `faultAt`. */
  closeWindow(faultAt: number): { held: number; ackedJustBefore: number } {
    const held = this.window?.size ?? 0;
    this.window = undefined;
    const ackedJustBefore = this.ackTimes.filter((at) => at >= faultAt - ACK_IN_FLIGHT_WINDOW_MS && at <= faultAt).length;
    return { held, ackedJustBefore };
  }
}

const keyOf = (item: WorkItem): string => `kill-${(item.payload as { n: number }).n}`;
const chaos = itControllingBrokers('nats');

describe('NATS: kill -9 of nats-server under load', () => {
  afterEach(() => harness.cleanup());

  chaos(
    'processes every item whose publish resolved after nats-server is killed and restarted (duplicates within what was in flight)',
    async () => {
      // Arrange
      const settings = contractSettings({ leaseMs: LEASE_MS, maxAttempts: 20, retryBackoffMs: [200], workerPullSize: PULL_SIZE });
      const transport = await harness.create(settings, { publishTimeoutMs: PUBLISH_TIMEOUT_MS });
      const domain = testNamespace().domain('chaos');
      await transport.ensureQueue('normal', domain);
      const items = Array.from({ length: ITEMS }, (_, n) => makeItem({ domain, payload: { n } }));
      const ledger = new Ledger();
      const holdings = new Holdings();
      const states: string[] = [];
      const statusSubscription = transport.status$.subscribe((status) => {
        if (states.at(-1) !== status.state) states.push(status.state);
      });
      let working = true;
      const workers = Array.from({ length: WORKERS }, () => runWorker(transport, domain, ledger, holdings, () => working));

      try {
        // Act
        let killedAt = 0;
        let restartedAt = 0;
        let atFault = { held: 0, ackedJustBefore: 0 };
        const outage = (async () => {
          await waitFor(() => ledger.acknowledgedCount >= KILL_AFTER, { timeoutMs: 60_000, intervalMs: 5, description: `${KILL_AFTER} acknowledged publishes` });
          holdings.openWindow();
          killedAt = performance.now();
          await natsBroker().kill9();
          atFault = holdings.closeWindow(killedAt);
          await waitFor(() => ledger.summary().rejected >= OUTAGE_PUBLISHES, { timeoutMs: 60_000, intervalMs: 20, description: `${OUTAGE_PUBLISHES} refused publishes while NATS is down` });
          await natsBroker().restart();
          restartedAt = performance.now();
        })();
        // Awaited after the publishes; a failure meanwhile is not an unhandled rejection.
        outage.catch(() => undefined);
        await publishAll(transport, items, ledger);
        await outage;
        await drainQueue(transport, domain, ledger);
        working = false;
        await Promise.all(workers);

        // Assert
        const inFlightAtFault = atFault.held + atFault.ackedJustBefore;
        const summary = ledger.summary();
        console.log(
          ledger.line('NATS kill -9 of nats-server under load (transport)', {
            inFlightAtFault,
            items: ITEMS,
            heldAtKill: atFault.held,
            ackedJustBefore: atFault.ackedJustBefore,
            pullErrors: holdings.pullErrors,
            ackErrors: holdings.ackErrors,
            outageMs: Math.round(restartedAt - killedAt),
            states: states.join('>'),
          }),
        );
        expect(summary).toMatchObject({ attempted: ITEMS, lost: 0, unexpected: 0 });
        expect(summary.acknowledged + summary.rejected).toBe(ITEMS);
        expect(summary.rejected).toBeGreaterThanOrEqual(OUTAGE_PUBLISHES);
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        expect(await busyRows(transport, domain)).toEqual([]);
        expect(states).toEqual(expect.arrayContaining(['up', 'down']));
        expect(transport.currentStatus.state).toBe('up');
      } finally {
        working = false;
        statusSubscription.unsubscribe();
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        await Promise.all(workers);
      }
    },
    300_000,
  );
});

/**
 * Publishes every item once, PUBLISH_CONCURRENCY at a time; a rejected publish is recorded as
 * refused, never retried, and its lane pauses as a producer backing off would.
 */
async function publishAll(transport: NatsTransport, items: WorkItem[], ledger: Ledger): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      ledger.attempt(keyOf(item));
      try {
        const receipt = await transport.publish(item);
        ledger.acknowledge(keyOf(item), receipt.broker);
      } catch (error) {
        ledger.reject(keyOf(item), (error as Error).name);
        await new Promise((resolve) => setTimeout(resolve, PRODUCER_ERROR_BACKOFF_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

/** Pulls, "processes" (records in the ledger) and acks until told to stop or its deadline; broker errors are counted and retried. */
async function runWorker(transport: NatsTransport, domain: string, ledger: Ledger, holdings: Holdings, keepGoing: () => boolean): Promise<void> {
  const deadline = performance.now() + WORKER_DEADLINE_MS;
  while (keepGoing() && performance.now() < deadline) {
    let batch;
    try {
      batch = await transport.pull({ domain, priority: 'normal' }, PULL_SIZE, { leaseMs: LEASE_MS, waitMs: 500 });
    } catch {
      holdings.pullErrors++;
      await new Promise((resolve) => setTimeout(resolve, WORKER_ERROR_BACKOFF_MS));
      continue;
    }
    const deliveries = batch.filter((delivery): delivery is Delivery => 'item' in delivery);
    // The whole batch is held from the pull on: an item further down may be processed after a kill and its ack lost.
    for (const delivery of deliveries) holdings.take(keyOf(delivery.item));
    for (const delivery of deliveries) {
      const key = keyOf(delivery.item);
      ledger.process(key, delivery.item.attempts);
      try {
        await transport.ack(delivery);
        holdings.acked(key);
      } catch {
        holdings.ackErrors++;
        holdings.held.delete(key);
      }
    }
  }
}
