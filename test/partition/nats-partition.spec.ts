import { itIfAvailable } from '../harness/needs-tool';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { NatsNames } from '../../libs/kanban/src/transports/nats/nats-names';
import { itControllingBrokers, NetnsNatsCluster, testNamespace, waitFor, type TestNamespace } from '../harness';
import { drain } from '../failover/support/drain';
import { activeBrokerLines } from '../failover/support/switch-lines';
import { startClusterRun } from '../cluster/support/cluster-run';

const ITEMS = 3_000;
const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** Cluster start-up, a partition and the leader election it causes, then a drain, with room for a loaded machine. */
const PARTITION_TEST_TIMEOUT_MS = 180_000;

const chaos = itControllingBrokers('rabbitmq');
const partitioned = itIfAvailable(NetnsNatsCluster.supported, 'skipped: network namespaces need root', chaos);

/** The work stream's leader and the replicas that caught up with it, asked of the nodes that answer. */
async function workStreamCluster(cluster: NetnsNatsCluster, namespace: TestNamespace, domain: string): Promise<{ leader?: string; current: string[] }> {
  const nc = await connectNats({ servers: cluster.urls });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(new NatsNames(namespace.streamPrefix).workStream('normal', domain));
    const current = (info.cluster?.replicas ?? []).filter((replica) => replica.current).map((replica) => replica.name);
    return { leader: info.cluster?.leader, current };
  } finally {
    await nc.close();
  }
}

/**
 * Until the cluster places a new three-replica stream: a node healed by the previous test may not
 * count as a peer yet ("no suitable peers for placement"), and an app started then starts on RabbitMQ.
 */
async function waitForPlacement(cluster: NetnsNatsCluster, namespace: TestNamespace): Promise<void> {
  const nc = await connectNats({ servers: cluster.urls });
  try {
    const jsm = await jetstreamManager(nc);
    const name = `${namespace.streamPrefix}_PLACEMENT`;
    await waitFor(
      async () => {
        const placed = await jsm.streams.add({ name, subjects: [`${namespace.streamPrefix}.placement`], num_replicas: 3 }).then(
          () => true,
          () => false,
        );
        if (placed) await jsm.streams.delete(name);
        return placed || undefined;
      },
      { timeoutMs: 60_000, description: 'the cluster to place a three-replica stream' },
    );
  } finally {
    await nc.close();
  }
}

/** The node the app's NATS transport is connected to: the last one it logged. */
function appNodeOf(logs: string[]): string {
  const nodes = logs.flatMap((line) => /connected to NATS .* \(server (\S+) /.exec(line)?.[1] ?? []);
  return nodes[nodes.length - 1];
}

describe('NATS cluster partition: one node cut off from the other two and from the app', () => {
  let cluster: NetnsNatsCluster | undefined;

  beforeAll(async () => {
    if (NetnsNatsCluster.supported) cluster = await NetnsNatsCluster.start();
  }, PARTITION_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, PARTITION_TEST_TIMEOUT_MS);

  /** Publishes under load, cuts the node `chooseCut` names, heals it: every item acknowledged by NATS, none lost, no failover. */
  async function partitionUnderLoad(label: string, chooseCut: (roles: { leader: string; appNode: string; nodes: string[] }) => string | undefined): Promise<void> {
    // Arrange
    const nodes = cluster as NetnsNatsCluster;
    await waitForPlacement(nodes, testNamespace());
    const run = await startClusterRun(
      'partition',
      {
        count: ITEMS,
        ratePerSecond: PUBLISH_RATE_PER_SECOND,
        maxInFlight: MAX_PUBLISHES_IN_FLIGHT,
      },
      nodes.urls,
    );
    const { app, domain, ledger, publisher } = run;
    const appNode = appNodeOf(app.logs);
    let cut: string | undefined;
    try {
      const { leader } = await waitFor(
        async () => {
          const stream = await workStreamCluster(nodes, run.namespace, domain);
          return stream.leader ? stream : undefined;
        },
        {
          timeoutMs: 30_000,
          description: 'the work stream to elect its first leader',
        },
      );
      cut = chooseCut({
        leader: leader as string,
        appNode,
        nodes: nodes.nodes.map((node) => node.name),
      });

      // Act
      const publishing = publisher.run();
      await run.launched(1_000);
      const fault = await run.fault(async () => nodes.cut(cut as string));
      await run.launched(2_000);
      await nodes.heal(cut as string);
      await publishing;
      await drain(app.failover, app.queue, domain, ledger);
      const rejoined = await waitFor(
        async () => {
          const stream = await workStreamCluster(nodes, run.namespace, domain);
          return stream.leader === cut || stream.current.includes(cut as string) ? stream : undefined;
        },
        {
          timeoutMs: 60_000,
          description: `${cut}'s replica of the work stream to catch up`,
        },
      );

      // Assert
      const summary = ledger.summary();
      console.log(
        ledger.line(`NATS partition: ${label}`, {
          items: ITEMS,
          cut: cut as string,
          appNode,
          inFlightAtFault: fault.inFlight,
          repeatedAttempts: ledger.repeatedAttempts(),
        }),
      );
      expect(summary).toMatchObject({
        attempted: ITEMS,
        acknowledged: ITEMS,
        processed: ITEMS,
        acknowledgedDeadLettered: 0,
        rejected: 0,
        lost: 0,
        unexpected: 0,
      });
      expect(summary.byBroker).toEqual({ nats: ITEMS });
      expect(activeBrokerLines(app.logs)).toEqual(['nats']);
      expect([rejoined.leader, ...rejoined.current]).toContain(cut);
    } finally {
      if (cut) await nodes.heal(cut);
      await run.close();
    }
  }

  partitioned(
    "the work stream's leader cut off under load (or another node when the app is on it): every publish acknowledged by NATS, none lost, no failover; healed, the node rejoins",
    () => partitionUnderLoad("the work stream's leader cut off", ({ leader, appNode, nodes }) => (leader !== appNode ? leader : nodes.find((node) => node !== appNode))),
    PARTITION_TEST_TIMEOUT_MS,
  );

  partitioned(
    "the app's own node cut off under load: the app moves to the majority, every publish acknowledged by NATS, none lost, no failover; healed, the node rejoins",
    () => partitionUnderLoad("the app's node cut off", ({ appNode }) => appNode),
    PARTITION_TEST_TIMEOUT_MS,
  );
});
