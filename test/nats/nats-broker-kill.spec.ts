import { performance } from 'node:perf_hooks';
import type { WorkItem } from '../../libs/kanban/src/interfaces';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsBroker, testNamespace, waitFor } from '../harness';
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
/** Everything must be processed within this bound once the producer is done. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Publishes fail fast while the broker is down, so the outage stays short. */
const PUBLISH_TIMEOUT_MS = 500;
/** Pause of a producer lane after a refused publish. */
const PRODUCER_ERROR_BACKOFF_MS = 100;
/** Pause of a worker after a failed pull or ack (the broker is down), so it does not spin. */
const WORKER_ERROR_BACKOFF_MS = 100;

interface Ledger {
  acknowledged: Set<string>;
  refused: Set<string>;
  processed: Map<string, number>;
  pullErrors: number;
  ackErrors: number;
}

const chaos = natsBroker().controllable ? it : it.skip;

describe('NATS: kill -9 of nats-server under load', () => {
  afterEach(() => harness.cleanup());

  chaos(
    'processes every item whose publish resolved after nats-server is killed and restarted (duplicates counted)',
    async () => {
      // Arrange
      const settings = contractSettings({ leaseMs: LEASE_MS, maxAttempts: 20, retryBackoffMs: [200], workerPullSize: PULL_SIZE });
      const transport = await harness.create(settings, { publishTimeoutMs: PUBLISH_TIMEOUT_MS });
      const domain = testNamespace().domain('chaos');
      await transport.ensureQueue('normal', domain);
      const items = Array.from({ length: ITEMS }, (_, n) => makeItem({ domain, payload: { n } }));
      const ledger: Ledger = { acknowledged: new Set(), refused: new Set(), processed: new Map(), pullErrors: 0, ackErrors: 0 };
      const states: string[] = [];
      const statusSubscription = transport.status$.subscribe((status) => {
        if (states.at(-1) !== status.state) states.push(status.state);
      });
      let producing = true;
      const workers = Array.from({ length: WORKERS }, () => runWorker(transport, domain, ledger, () => producing || !allProcessed(ledger)));

      // Act
      let killedAt = 0;
      let restartedAt = 0;
      const outage = (async () => {
        await waitFor(() => ledger.acknowledged.size >= KILL_AFTER, { timeoutMs: 60_000, intervalMs: 5, description: `${KILL_AFTER} acknowledged publishes` });
        await natsBroker().kill9();
        killedAt = performance.now();
        await waitFor(() => ledger.refused.size >= OUTAGE_PUBLISHES, { timeoutMs: 60_000, intervalMs: 20, description: `${OUTAGE_PUBLISHES} refused publishes while NATS is down` });
        await natsBroker().restart();
        restartedAt = performance.now();
      })();
      await publishAll(transport, items, ledger);
      await outage;
      producing = false;
      await waitFor(() => allProcessed(ledger), { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 100, description: 'every acknowledged item processed' });
      await Promise.all(workers);
      statusSubscription.unsubscribe();

      // Assert
      const lost = [...ledger.acknowledged].filter((id) => !ledger.processed.has(id));
      const duplicates = [...ledger.processed.values()].reduce((sum, count) => sum + count - 1, 0);
      const processedUnacknowledged = [...ledger.processed.keys()].filter((id) => !ledger.acknowledged.has(id)).length;
      process.stdout.write(
        `[nats kill -9] items=${ITEMS} acknowledged=${ledger.acknowledged.size} refused=${ledger.refused.size} ` +
          `processed=${ledger.processed.size} duplicates=${duplicates} lost=${lost.length} ` +
          `processed-but-refused=${processedUnacknowledged} pull-errors=${ledger.pullErrors} ack-errors=${ledger.ackErrors} ` +
          `outage-ms=${Math.round(restartedAt - killedAt)} states=${states.join('>')}\n`,
      );
      expect(lost).toEqual([]);
      expect(ledger.acknowledged.size + ledger.refused.size).toBe(ITEMS);
      expect(ledger.refused.size).toBeGreaterThanOrEqual(OUTAGE_PUBLISHES);
      expect(states).toEqual(expect.arrayContaining(['up', 'down']));
      expect(transport.currentStatus.state).toBe('up');
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
      try {
        await transport.publish(item);
        ledger.acknowledged.add(item.id);
      } catch {
        ledger.refused.add(item.id);
        await new Promise((resolve) => setTimeout(resolve, PRODUCER_ERROR_BACKOFF_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
}

function allProcessed(ledger: Ledger): boolean {
  for (const id of ledger.acknowledged) if (!ledger.processed.has(id)) return false;
  return true;
}

/** Pulls, "processes" (records) and acks until told to stop; broker errors are counted and retried. */
async function runWorker(transport: NatsTransport, domain: string, ledger: Ledger, keepGoing: () => boolean): Promise<void> {
  const deadline = performance.now() + 240_000;
  while (keepGoing() && performance.now() < deadline) {
    let batch;
    try {
      batch = await transport.pull({ domain, priority: 'normal' }, PULL_SIZE, { leaseMs: LEASE_MS, waitMs: 500 });
    } catch {
      ledger.pullErrors++;
      await new Promise((resolve) => setTimeout(resolve, WORKER_ERROR_BACKOFF_MS));
      continue;
    }
    for (const delivery of batch) {
      ledger.processed.set(delivery.id, (ledger.processed.get(delivery.id) ?? 0) + 1);
      try {
        await transport.ack(delivery);
      } catch {
        ledger.ackErrors++;
      }
    }
  }
}
