import { Injectable, type Type } from '@nestjs/common';
import { KanbanHandler, type KanbanModuleOptions } from '@tps/kanban';
import { rabbitmqBroker, waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp, type KanbanTestAppOptions } from '../library/support/kanban-test-app';

const INSTANCES = 3;
const BACKLOG = 120;
const DEPTH_PER_WORKER = 10;
const MAX_WORKERS = 20;
/**
 * Fast rounds so the fleet converges in a few seconds; one item per worker and a long processing
 * timeout, so a worker holds its item (in flight, out of the backlog) until the gate opens.
 */
const FLEET_OPTIONS: KanbanModuleOptions = {
  coordinatorCheckIntervalMs: 200,
  coordinatorLeaseMs: 1_000,
  workerPullSize: 1,
  workerProcessTimeoutMs: 120_000,
  minWorkers: 1,
  maxWorkers: MAX_WORKERS,
  scaleUpDepthPerWorker: DEPTH_PER_WORKER,
};

/** Handlers wait here until the test opens it, so the backlog stays put while the fleet scales. */
let openGate: () => void = () => undefined;
let gate = new Promise<void>((resolve) => (openGate = resolve));

/** A consumer of `domain` whose handler waits for the gate; one domain per fleet, as NATS and failover share the stream prefix. */
function gatedConsumer(domain: string): Type {
  @Injectable()
  class GatedConsumer {
    @KanbanHandler({ priority: 'normal', domain })
    async handle(): Promise<void> {
      await gate;
    }
  }
  return GatedConsumer;
}

async function sweepsOf(app: KanbanTestApp): Promise<number> {
  return (await app.metrics.stalledSweeps.get()).values[0]?.value ?? 0;
}

/** True once every app's fleet view lists exactly `apps` and they agree on one sweep leader among them. */
function fleetAgrees(apps: KanbanTestApp[]): boolean {
  const ids = apps.map((app) => app.coordinator.getHealth().fleet.instances[0]?.id).sort();
  return apps.every((app) => {
    const fleet = app.coordinator.getHealth().fleet;
    const seen = fleet.instances.map((instance) => instance.id).sort();
    return seen.join() === ids.join() && fleet.sweep_leader !== null && ids.includes(fleet.sweep_leader) && fleet.sweep_leader === apps[0].coordinator.getHealth().fleet.sweep_leader;
  });
}

/** What one instance alone would run for the backlog of `domain` ready now on the broker. */
async function soloTarget(app: KanbanTestApp, domain: string): Promise<number> {
  const ready = (await app.queue.depth()).filter((row) => row.domain === domain).reduce((sum, row) => sum + row.ready, 0);
  return Math.min(MAX_WORKERS, Math.max(1, Math.ceil(ready / DEPTH_PER_WORKER)));
}

/** Resolves with the targets once they hold steady across the apps, add up to the solo target and are running. */
async function settledTargets(apps: KanbanTestApp[], domain: string): Promise<{ targets: number[]; solo: number }> {
  return waitFor(
    async () => {
      const healths = apps.map((app) => app.coordinator.getHealth());
      const targets = healths.map((health) => health.target_workers);
      const solo = await soloTarget(apps[0], domain);
      const running = healths.every((health) => health.current_workers === health.target_workers);
      return running && targets.reduce((a, b) => a + b, 0) === solo ? { targets, solo } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, description: 'fleet targets adding up to the solo target' },
  );
}

/** Each fleet's apps: the broker alone, or the failover pair (NATS primary, RabbitMQ fallback). */
const FLEETS: Record<string, () => KanbanTestAppOptions> = {
  nats: () => ({ transport: 'nats', options: FLEET_OPTIONS }),
  rabbitmq: () => ({ transport: 'rabbitmq', options: FLEET_OPTIONS }),
  failover: () => ({ transport: 'nats', options: { ...FLEET_OPTIONS, rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix } } }),
};

describe.each(Object.entries(FLEETS))('the coordinator as a fleet of three instances (%s)', (name, fleet) => {
  const WORK = namespace.domain(`work-${name}`);
  const SPARE = namespace.domain(`spare-${name}`);
  let apps: KanbanTestApp[] = [];
  let drained: Promise<void> | undefined;

  beforeAll(async () => {
    gate = new Promise<void>((resolve) => (openGate = resolve));
    apps = await Promise.all(Array.from({ length: INSTANCES }, () => createKanbanTestApp({ ...fleet(), providers: [gatedConsumer(WORK)] })));
  }, 60_000);

  afterAll(async () => {
    openGate();
    await drained;
    await Promise.all(apps.map((app) => app.close()));
  }, 60_000);

  it('lists the three instances in every fleet view, and exactly one of them sweeps', async () => {
    // Arrange
    await waitFor(() => fleetAgrees(apps), { timeoutMs: 20_000, intervalMs: 20, description: 'three instances agreeing on the fleet' });
    const leader = apps.find((app) => app.coordinator.isSweepLeader()) as KanbanTestApp;
    const before = await Promise.all(apps.map(sweepsOf));

    // Act
    await waitFor(async () => (await sweepsOf(leader)) >= before[apps.indexOf(leader)] + 5, { timeoutMs: 10_000, intervalMs: 20, description: 'five sweeps by the leader' });
    const after = await Promise.all(apps.map(sweepsOf));

    // Assert
    const health = apps[0].coordinator.getHealth();
    expect(health.fleet.instances).toHaveLength(INSTANCES);
    expect(health.fleet.sweep_leader).toBe(leader.coordinator.getHealth().fleet.instances[0].id);
    expect(health.fleet.instances.every((instance) => instance.pid === process.pid && instance.host.length > 0)).toBe(true);
    expect(apps.filter((app) => app.coordinator.isSweepLeader())).toHaveLength(1);
    expect(after.map((count, i) => count - before[i]).filter((grown) => grown > 0)).toHaveLength(1);
  }, 60_000);

  it('splits the workers the shared backlog needs across the instances: together they run what one would alone', async () => {
    // Arrange
    await Promise.all(Array.from({ length: BACKLOG }, (_, i) => apps[i % INSTANCES].queue.publish({ priority: 'normal', domain: WORK, payload: i, deadline: inFuture(600_000) })));

    // Act
    const { targets, solo } = await settledTargets(apps, WORK);

    // Assert
    expect(solo).toBeGreaterThanOrEqual(INSTANCES);
    expect(Math.max(...targets) - Math.min(...targets)).toBeLessThanOrEqual(1);
    await waitFor(() => apps[0].coordinator.getHealth().fleet.total_workers === solo, { timeoutMs: 5_000, intervalMs: 20, description: `the fleet's ${solo} workers in the health` });
  }, 60_000);

  it('draining one instance takes it out of the fleet at once; the others take over its share and keep serving', async () => {
    // Arrange
    const [stays, alsoStays, leaves] = apps;
    const leavingId = leaves.coordinator.getHealth().fleet.instances[0].id;

    // Act
    drained = leaves.coordinator.drainQueue();
    await waitFor(() => fleetAgrees([stays, alsoStays]), { timeoutMs: 10_000, intervalMs: 20, description: 'two instances agreeing on the fleet' });
    const { targets, solo } = await settledTargets([stays, alsoStays], WORK);
    const receipt = await stays.queue.publish({ priority: 'normal', domain: SPARE, payload: 'after the drain', deadline: inFuture() });
    const [delivery] = await waitFor(
      async () => {
        const pulled = await alsoStays.queue.pull({ domain: SPARE, max: 1, waitMs: 500 });
        return pulled.length > 0 ? pulled : undefined;
      },
      { timeoutMs: 10_000, description: 'the item published after the drain' },
    );
    await stays.queue.ack(delivery.id, delivery.domain, delivery.lease);

    // Assert
    expect(stays.coordinator.getHealth().fleet.instances.map((instance) => instance.id)).not.toContain(leavingId);
    expect(leaves.coordinator.isSweepLeader()).toBe(false);
    expect(targets.reduce((a, b) => a + b, 0)).toBe(solo);
    expect(delivery.id).toBe(receipt.id);
  }, 60_000);
});
