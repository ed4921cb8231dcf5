import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { Delivery, QueueRef, WorkItem } from '../../libs/kanban/src/interfaces';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsCluster, testNamespace, waitFor } from '../harness';
import { CLUSTER_START_TIMEOUT_MS, startNatsClusterFleet, type NatsClusterFleet } from './support/nats-cluster-fleet';

const INSTANCES = 3;
const LEASE_MS = 30_000;
const PULL_SIZE = 5;
/** Publishes in flight at once: several instances racing for a group's slots and rate. */
const PUBLISH_CONCURRENCY = 10;
const CAP = 3;
/** How long a capped item is held at most while waiting for the others to reach the cap. */
const HOLD_MS = 1_000;

/**
 * Fair share across a fleet on the three-node cluster (R3 streams): three transports (three server
 * instances) share one prefix, so the broker's slots are all that holds the limits together.
 */
describe('NATS groups across a fleet of three instances on a three-node cluster', () => {
  let fleet: NatsTransport[] = [];
  let running: NatsClusterFleet | undefined;

  beforeAll(async () => {
    Logger.overrideLogger(['warn', 'error']);
    await natsCluster().start();
  }, CLUSTER_START_TIMEOUT_MS);

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    fleet = [];
  });

  async function startFleet(settings: TransportSettings): Promise<NatsTransport[]> {
    running = await startNatsClusterFleet(INSTANCES, settings);
    fleet = running.instances;
    return fleet;
  }

  /** Publishes round-robin through the instances, PUBLISH_CONCURRENCY at a time. */
  async function publishThroughFleet(items: WorkItem[]): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const n = next++;
        await fleet[n % INSTANCES].publish(items[n]);
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
  }

  /** Pulls and acks on every instance at once until `done`, calling `handedOut` per delivery before its ack. */
  async function work(queue: QueueRef, done: () => boolean, handedOut: (delivery: Delivery) => Promise<void> | void): Promise<void> {
    await Promise.all(
      fleet.map(async (transport) => {
        while (!done()) {
          const batch = await transport.pull(queue, PULL_SIZE, { leaseMs: LEASE_MS, waitMs: 100 });
          await Promise.all(
            batch.map(async (delivery) => {
              await handedOut(delivery as Delivery);
              await transport.ack(delivery);
            }),
          );
        }
      }),
    );
  }

  it('never has more of a group in flight than its maxInFlight, with three instances pulling and acking concurrently', async () => {
    // Arrange
    const settings = contractSettings({ leaseMs: LEASE_MS, workerPullSize: PULL_SIZE, groups: { window: 5, metrics: false, domains: {} } });
    const [first] = await startFleet(settings);
    const domain = testNamespace().domain('cap');
    const queue: QueueRef = { priority: 'normal', domain };
    await first.setGroupLimits(domain, 'capped', { maxInFlight: CAP });
    const items = [
      ...Array.from({ length: 24 }, (_, n) => makeItem({ domain, group: 'capped', payload: { n } })),
      ...Array.from({ length: 30 }, (_, n) => makeItem({ domain, group: 'free', payload: { n } })),
    ];
    await publishThroughFleet(items);
    const inFlight = { capped: 0, free: 0 };
    const most = { capped: 0, free: 0 };
    const handedOut: string[] = [];

    // Act: a capped item is held until the cap is reached (or a while passed), so the instances
    // pile up as many as the broker lets them
    await work(
      queue,
      () => handedOut.length >= items.length,
      async (delivery) => {
        const group = delivery.item.group as 'capped' | 'free';
        handedOut.push(delivery.id);
        inFlight[group]++;
        most[group] = Math.max(most[group], inFlight[group]);
        if (group === 'capped') await waitFor(() => inFlight.capped >= CAP, { timeoutMs: HOLD_MS, intervalMs: 5, description: 'the cap reached' }).catch(() => undefined);
        inFlight[group]--;
      },
    );

    // Assert
    expect(most.capped).toBe(CAP);
    expect(most.free).toBeLessThanOrEqual(5);
    expect(handedOut).toHaveLength(items.length);
    expect(new Set(handedOut).size).toBe(items.length);
  }, 60_000);

  it('hands a rate-limited group out at its rate within 10 % over 10 s, whichever instances move and pull', async () => {
    // Arrange
    const rate = 5;
    const seconds = 10;
    const settings = contractSettings({ leaseMs: LEASE_MS, workerPullSize: PULL_SIZE, groups: { window: 5, metrics: false, domains: {} } });
    const [first] = await startFleet(settings);
    const domain = testNamespace().domain('rate');
    const queue: QueueRef = { priority: 'normal', domain };
    await first.setGroupLimits(domain, 'paced', { ratePerSecond: rate });
    const items = Array.from({ length: rate * seconds * 2 }, (_, n) => makeItem({ domain, group: 'paced', payload: { n } }));
    await publishThroughFleet(items);

    // Act: hand-outs counted from the first one on, for `seconds`
    let startedAt: number | undefined;
    let counted = 0;
    await work(
      queue,
      () => startedAt !== undefined && performance.now() - startedAt >= seconds * 1_000,
      () => {
        startedAt ??= performance.now();
        if (performance.now() - startedAt < seconds * 1_000) counted++;
      },
    );

    // Assert
    expect(counted).toBeGreaterThanOrEqual(Math.floor(rate * seconds * 0.9));
    expect(counted).toBeLessThanOrEqual(Math.ceil(rate * seconds * 1.1));
  }, 60_000);
});
