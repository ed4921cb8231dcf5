import { performance } from 'node:perf_hooks';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor } from '../harness';
import type { ChildApp } from '../chaos/support/child-app';
import type { ScheduleInstanceConfig } from './fixtures/schedule-instance';
import { drainTicks, startScheduleFleet } from './support/schedule-fleet';

const INSTANCES = 3;
const INTERVAL_MS = 500;
const LEASE_MS = 1_500;
/**
 * How long a new leader takes over after a kill -9 of the old one, per broker. NATS: the lease
 * must lapse. RabbitMQ: the kernel closes the killed process's socket, the broker sees it at once,
 * requeues the leadership token and delivers it to the next consumer (one broker round trip);
 * the lease is not used. A lost host instead of a killed process adds two missed heartbeats there.
 */
const TAKEOVER_MS = { nats: LEASE_MS, rabbitmq: 500 } as const;
type Broker = keyof typeof TAKEOVER_MS;
const RUN_MS = 10_000;
/** Time for a child to compile its TypeScript and connect on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;
/** Event-loop and process-scheduling latency allowed on top of interval + lease (children and the test share 2 cores). */
const SCHEDULING_SLACK_MS = 500;

function startFleet(broker: Broker, name: string): { children: ChildApp[]; config: ScheduleInstanceConfig } {
  const namespace = testNamespace();
  const brokers: ScheduleInstanceConfig['brokers'] =
    broker === 'nats' ? { nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix } } : { rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix } };
  const config: ScheduleInstanceConfig = { brokers, domain: namespace.domain('ticks'), name, intervalMs: INTERVAL_MS, scheduleLeaseMs: LEASE_MS };
  return { children: startScheduleFleet(config, INSTANCES), config };
}

describe.each(['nats', 'rabbitmq'] as const)('schedules across a fleet of three instances on %s', (broker) => {
  let children: ChildApp[] = [];

  afterEach(async () => {
    await Promise.all(children.map((child) => child.terminate()));
    children = [];
  });

  it('fires each tick once across the fleet: 20 ± 2 ticks of 500 ms in 10 s, no tick twice', async () => {
    // Arrange
    const fleet = startFleet(broker, 'fleet-count');
    children = fleet.children;
    await Promise.all(children.map((child) => child.waitForLine('ready', START_TIMEOUT_MS)));

    // Act
    const start = Date.now();
    await waitFor(() => Date.now() >= start + RUN_MS, { timeoutMs: RUN_MS + 5_000, intervalMs: 50, description: 'the 10 s run' });
    const end = Date.now();
    const ticks = await drainTicks(children[0]);

    // Assert
    const inRun = ticks.filter((time) => time >= start && time < end);
    expect(inRun.length).toBeGreaterThanOrEqual(18);
    expect(inRun.length).toBeLessThanOrEqual(22);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.every((time) => time % INTERVAL_MS === 0)).toBe(true);
  }, 180_000);

  it(`resumes within one interval plus the leadership takeover (${TAKEOVER_MS[broker]} ms) after the leader is killed with -9`, async () => {
    // Arrange
    const fleet = startFleet(broker, 'fleet-kill');
    children = fleet.children;
    await Promise.all(children.map((child) => child.waitForLine('ready', START_TIMEOUT_MS)));
    await waitFor(() => children.some((child) => child.count('published') >= 3), { timeoutMs: 20_000, description: 'a leader publishing' });
    const leader = children.find((child) => child.count('published') >= 3) as ChildApp;
    const others = children.filter((child) => child !== leader);

    // Act
    const killedAt = performance.now();
    await leader.kill9();
    await waitFor(() => others.some((child) => child.count('published') > 0), { timeoutMs: 20_000, intervalMs: 10, description: 'a new leader publishing' });
    const resumedAt = Math.min(...others.map((child) => child.arrivals[child.lines.findIndex(([kind]) => kind === 'published')]).filter((at) => at !== undefined));
    const ticks = await drainTicks(others[0]);

    // Assert
    expect(resumedAt - killedAt).toBeLessThanOrEqual(INTERVAL_MS + TAKEOVER_MS[broker] + SCHEDULING_SLACK_MS);
    expect(new Set(ticks).size).toBe(ticks.length);
  }, 180_000);
});
