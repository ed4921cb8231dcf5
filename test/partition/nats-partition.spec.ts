import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { NatsNames } from '../../libs/kanban/src/transports/nats/nats-names';
import { itControllingBrokers, NetnsNatsCluster, waitFor, type TestNamespace } from '../harness';
import { drain } from '../failover/support/drain';
import { activeBrokerLines } from '../failover/support/switch-lines';
import { startClusterRun } from '../cluster/support/cluster-run';

const ITEMS = 3_000;
const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** Cluster start-up, a partition the client detects and a leader election, then a drain, with room for a loaded machine. */
const PARTITION_TEST_TIMEOUT_MS = 180_000;

const chaos = itControllingBrokers('rabbitmq');
const partitioned = NetnsNatsCluster.supported ? chaos : (name: string) => it.skip(`${name} [skipped: network namespaces need root]`, () => undefined);

/** Whether the healed node's replica of the work stream caught up with the stream leader. */
async function replicaCurrent(cluster: NetnsNatsCluster, namespace: TestNamespace, domain: string, node: string): Promise<boolean> {
  const nc = await connectNats({ servers: cluster.urls });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(new NatsNames(namespace.streamPrefix).workStream('normal', domain));
    return info.cluster?.leader === node || info.cluster?.replicas?.some((replica) => replica.name === node && replica.current) === true;
  } finally {
    await nc.close();
  }
}

describe('NATS cluster partition: one node cut off from the other two and from the app', () => {
  let cluster: NetnsNatsCluster | undefined;

  beforeAll(async () => {
    if (NetnsNatsCluster.supported) cluster = await NetnsNatsCluster.start();
  }, PARTITION_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, PARTITION_TEST_TIMEOUT_MS);

  partitioned(
    'the app on the cut node moves to the majority: every publish acknowledged by NATS, none lost, no failover; healed, the node rejoins',
    async () => {
      // Arrange
      const nodes = cluster as NetnsNatsCluster;
      const run = await startClusterRun('partition', { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT }, nodes.urls);
      const { app, domain, ledger, publisher } = run;
      const connectedTo = /connected to NATS .* \(server (\S+) /.exec(app.logs.join('\n'))?.[1] as string;
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(1_000);
        const fault = await run.fault(async () => nodes.cut(connectedTo));
        await waitFor(() => app.logs.some((line) => line.includes('NATS connection restored')), { timeoutMs: 60_000, description: 'the app to reconnect to the majority' });
        await run.launched(2_000);
        await nodes.heal(connectedTo);
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);
        await waitFor(() => replicaCurrent(nodes, run.namespace, domain, connectedTo), { timeoutMs: 60_000, description: `${connectedTo}'s replica of the work stream to catch up` });

        // Assert
        const summary = ledger.summary();
        console.log(ledger.line('NATS partition: the client node cut off', { items: ITEMS, cut: connectedTo, inFlightAtFault: fault.inFlight, repeatedAttempts: ledger.repeatedAttempts() }));
        expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.byBroker).toEqual({ nats: ITEMS });
        expect(activeBrokerLines(app.logs)).toEqual(['nats']);
      } finally {
        if (connectedTo) await nodes.heal(connectedTo);
        await run.close();
      }
    },
    PARTITION_TEST_TIMEOUT_MS,
  );
});
