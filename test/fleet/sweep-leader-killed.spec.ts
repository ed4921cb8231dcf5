import { performance } from 'node:perf_hooks';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor } from '../harness';
import { ChildApp } from '../chaos/support/child-app';
import type { CoordinatorInstanceConfig } from './fixtures/coordinator-instance';

/** Relative to test/chaos/fixtures, where ChildApp looks. */
const FIXTURE = '../../fleet/fixtures/coordinator-instance.ts';
const INSTANCES = 3;
const CHECK_INTERVAL_MS = 200;
const LEASE_MS = 1_500;
/** Time for a child to compile its TypeScript and connect on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;
/** Event-loop and process-scheduling latency allowed on top of lease + interval (children and the test share 2 cores). */
const SCHEDULING_SLACK_MS = 500;

function brokerOf(transport: 'nats' | 'rabbitmq'): CoordinatorInstanceConfig['broker'] {
  const namespace = testNamespace();
  return transport === 'nats' ? { nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix } } : { rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix } };
}

const lastFleetSize = (child: ChildApp): number => Number(child.linesOf('fleet').at(-1)?.[1] ?? 0);

describe.each(['nats', 'rabbitmq'] as const)('the stalled sweep across a fleet of three processes (%s)', (transport) => {
  let children: ChildApp[] = [];

  afterEach(async () => {
    await Promise.all(children.map((child) => child.terminate()));
    children = [];
  });

  it('one instance sweeps; after it is killed with -9 another sweeps within the lease plus one round', async () => {
    // Arrange
    const config: CoordinatorInstanceConfig = { broker: brokerOf(transport), coordinatorCheckIntervalMs: CHECK_INTERVAL_MS, coordinatorLeaseMs: LEASE_MS };
    children = Array.from({ length: INSTANCES }, () => new ChildApp(FIXTURE, config));
    await Promise.all(children.map((child) => child.waitForLine('ready', START_TIMEOUT_MS)));
    await waitFor(() => children.every((child) => lastFleetSize(child) === INSTANCES), { timeoutMs: 20_000, intervalMs: 20, description: 'three instances in every view' });
    await waitFor(() => children.some((child) => child.count('swept') >= 5), { timeoutMs: 20_000, intervalMs: 20, description: 'five sweeps by a leader' });
    const leader = children.find((child) => child.count('swept') >= 5) as ChildApp;
    const others = children.filter((child) => child !== leader);
    const othersBefore = others.map((child) => child.count('swept'));

    // Act
    const killedAt = performance.now();
    await leader.kill9();
    await waitFor(() => others.some((child) => child.count('swept') > 0), { timeoutMs: 20_000, intervalMs: 10, description: 'a new leader sweeping' });
    const next = others.find((child) => child.count('swept') > 0) as ChildApp;
    const resumedAt = next.arrivals[next.lines.findIndex(([kind]) => kind === 'swept')];
    await waitFor(() => next.count('swept') >= 5, { timeoutMs: 20_000, intervalMs: 20, description: 'five sweeps by the new leader' });
    await waitFor(() => others.every((child) => lastFleetSize(child) === INSTANCES - 1), { timeoutMs: 20_000, intervalMs: 20, description: 'the killed instance gone from the views' });

    // Assert
    expect(othersBefore).toEqual([0, 0]);
    expect(resumedAt - killedAt).toBeLessThanOrEqual(LEASE_MS + CHECK_INTERVAL_MS + SCHEDULING_SLACK_MS);
    expect(others.filter((child) => child.count('swept') > 0)).toHaveLength(1);
  }, 180_000);
});
