import { performance } from 'node:perf_hooks';
import { rabbitmqBroker, testNamespace, waitFor } from '../harness';
import type { ChildApp } from '../chaos/support/child-app';
import { drainTicks, startScheduleFleet } from './support/schedule-fleet';

const INSTANCES = 3;
const INTERVAL_MS = 500;
/** AMQP heartbeat of the fleet's connections: the broker drops a connection that stays silent for about two of them. */
const HEARTBEAT_S = 1;
/** Not used by RabbitMQ's leadership; the fixture passes it on. */
const LEASE_MS = 1_000;
/** Time for a child to compile its TypeScript and connect on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;
/** The broker checks for a silent connection once per heartbeat and drops it after two missed ones. */
const TAKEOVER_MS = 3 * HEARTBEAT_S * 1_000;
/** Ticks the new leader publishes after the old one woke up, during which the old one must publish none. */
const TICKS_AFTER_WAKE = 4;

/**
 * A frozen (SIGSTOP) leader keeps its sockets open, so the broker hands its leadership token on only
 * once it missed the connection's heartbeats; when the leader wakes, its timers run before it reads
 * that its connections are gone. RabbitMQ folds idempotency keys per process, so a tick it
 * published then would be a second item: the broker must refuse it, having dropped the connection.
 */
describe('schedules on RabbitMQ with a frozen leader', () => {
  let children: ChildApp[] = [];

  afterEach(async () => {
    await Promise.all(children.map((child) => child.terminate()));
    children = [];
  });

  it("hands over once the broker missed the frozen leader's heartbeats, and no tick fires twice when it wakes", async () => {
    // Arrange
    const namespace = testNamespace();
    const url = new URL(rabbitmqBroker().url);
    url.searchParams.set('heartbeat', String(HEARTBEAT_S));
    const domain = namespace.domain('ticks');
    children = startScheduleFleet(
      { brokers: { rabbitmq: { url: url.toString(), queuePrefix: namespace.queuePrefix } }, domain, name: 'frozen-leader', intervalMs: INTERVAL_MS, scheduleLeaseMs: LEASE_MS },
      INSTANCES,
    );
    await Promise.all(children.map((child) => child.waitForLine('ready', START_TIMEOUT_MS)));
    await waitFor(() => children.some((child) => child.count('published') >= 3), { timeoutMs: 20_000, description: 'a leader publishing' });
    const leader = children.find((child) => child.count('published') >= 3) as ChildApp;
    const others = children.filter((child) => child !== leader);

    // Act
    const frozenAt = performance.now();
    leader.signal('SIGSTOP');
    const next = await waitFor(() => others.find((child) => child.count('published') > 0), { timeoutMs: 30_000, intervalMs: 10, description: 'a new leader publishing' });
    const tookOverMs = performance.now() - frozenAt;
    const publishedByOldLeader = leader.count('published');
    const publishedByNewLeader = next.count('published');
    leader.signal('SIGCONT');
    await waitFor(() => next.count('published') >= publishedByNewLeader + TICKS_AFTER_WAKE, { timeoutMs: 20_000, description: `${TICKS_AFTER_WAKE} ticks after the old leader woke` });
    const ticks = await drainTicks(next);

    // Assert
    expect(tookOverMs).toBeLessThanOrEqual(INTERVAL_MS + TAKEOVER_MS);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(leader.count('published')).toBe(publishedByOldLeader);
  }, 180_000);
});
