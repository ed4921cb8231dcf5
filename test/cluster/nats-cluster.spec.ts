import type { TransportStatus } from '../../libs/kanban/src';
import { createKanbanTestApp } from '../library/support/kanban-test-app';
import { itControllingBrokers, natsCluster, testNamespace, waitFor } from '../harness';
import { drain } from '../failover/support/drain';
import { activeBrokerLines } from '../failover/support/switch-lines';
import { timeUntilTakingPublishes } from '../failover/support/switch-times';
import { startClusterRun, workStreamLeader } from './support/cluster-run';

const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** Cluster start-up (once per run) and a drain after a leader election, with room for a loaded machine. */
const CLUSTER_TEST_TIMEOUT_MS = 180_000;

const chaos = itControllingBrokers('rabbitmq');

describe('NATS cluster: three JetStream nodes, R3 streams', () => {
  beforeAll(() => natsCluster().start(), CLUSTER_TEST_TIMEOUT_MS);

  afterEach(async () => {
    // Together: a node of a cluster without quorum is not ready until the others are back too.
    const stopped = natsCluster().nodes.filter((node) => !natsCluster().isRunning(node.name));
    await Promise.all(stopped.map((node) => natsCluster().restart(node.name)));
  }, CLUSTER_TEST_TIMEOUT_MS);

  it('kill -9 of the node the client is connected to: it moves to another node of the seed list without reporting NATS down', async () => {
    // Arrange
    const namespace = testNamespace();
    const domain = namespace.domain('reconnect');
    const app = await createKanbanTestApp({ transport: 'nats', options: { nats: { servers: natsCluster().urls, streamPrefix: namespace.streamPrefix, replicas: 3 } } });
    const states: TransportStatus['state'][] = [];
    const watching = app.transport.status$.subscribe((status) => states.push(status.state));
    try {
      await app.queue.publish({ priority: 'normal', domain, payload: { key: 'before' }, deadlineMs: 60_000 });
      const connectedTo = /connected to NATS .* \(server (\S+) /.exec(app.logs.join('\n'))?.[1] as string;

      // Act
      await natsCluster().kill9(connectedTo);
      await waitFor(() => app.logs.some((line) => line.includes('NATS connection restored')), { timeoutMs: 30_000, description: 'the client to reconnect' });

      // Assert
      expect(states).not.toContain('down');
      expect(app.transport.currentStatus.state).toBe('up');
    } finally {
      watching.unsubscribe();
      await app.close();
    }
  });

  chaos(
    "kill -9 of the stream leader's node under load: every acknowledged item processed, none lost, and no publish fails over to RabbitMQ while a quorum stands",
    async () => {
      // Arrange
      const items = 3_000;
      const run = await startClusterRun('leaderkill', { count: items, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT });
      const { app, domain, ledger, publisher } = run;
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(1_000);
        const leader = await workStreamLeader(run.namespace, domain);
        const fault = await run.fault(() => natsCluster().kill9(leader));
        await run.launched(2_000);
        await natsCluster().restart(leader);
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);

        // Assert
        const summary = ledger.summary();
        console.log(ledger.line("NATS cluster: kill -9 of the stream leader's node", { items, killed: leader, inFlightAtFault: fault.inFlight, repeatedAttempts: ledger.repeatedAttempts() }));
        expect(summary).toMatchObject({ attempted: items, acknowledged: items, processed: items, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        // Two of three nodes stood throughout: a stream leader election is waited out on NATS, never failed over.
        expect(summary.byBroker).toEqual({ nats: items });
        expect(activeBrokerLines(app.logs)).toEqual(['nats']);
      } finally {
        await run.close();
      }
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  chaos(
    'kill -9 of two of three nodes under load: publishes fail over to RabbitMQ; both back: failback to NATS; every acknowledged item processed, none lost',
    async () => {
      // Arrange
      const items = 6_000;
      const run = await startClusterRun('quorumloss', { count: items, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT });
      const { app, domain, ledger, publisher } = run;
      const [kept, ...killed] = natsCluster().nodes.map((node) => node.name);
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(1_000);
        const fault = await run.fault(async () => {
          for (const name of killed) await natsCluster().kill9(name);
        });
        await waitFor(() => publisher.firstFrom('rabbitmq', fault.at) !== undefined, { timeoutMs: CLUSTER_TEST_TIMEOUT_MS / 3, description: 'a publish acknowledged by RabbitMQ' });
        await Promise.all(killed.map((name) => natsCluster().restart(name)));
        const failbackMs = await timeUntilTakingPublishes(app.failover, 'nats');
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);

        // Assert
        const summary = ledger.summary();
        console.log(
          ledger.line('NATS cluster: kill -9 of two of three nodes', {
            items,
            kept,
            killed: killed.join('+'),
            inFlightAtFault: fault.inFlight,
            failbackMs,
            repeatedAttempts: ledger.repeatedAttempts(),
          }),
        );
        expect(summary).toMatchObject({ attempted: items, acknowledged: items, processed: items, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.byBroker.rabbitmq).toBeGreaterThan(0);
        expect(failbackMs).not.toBeNaN();
        expect(activeBrokerLines(app.logs)).toContain('rabbitmq');
        expect(activeBrokerLines(app.logs).at(-1)).toBe('nats');
      } finally {
        await run.close();
      }
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
