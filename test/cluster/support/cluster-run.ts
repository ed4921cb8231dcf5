import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { NatsNames } from '../../../libs/kanban/src/transports/nats/nats-names';
import { natsCluster, rabbitmqBroker, type TestNamespace } from '../../harness';
import { startPublishingRun, type PublishingRun, type PublishLoad } from '../../failover/support/publishing-run';

/** Replicas of every stream on the three-node cluster: one node's loss keeps a quorum of two. */
export const CLUSTER_REPLICAS = 3;
/**
 * A publish waits out one JetStream leader election (4–9 s in nats-server) before it fails over:
 * what a cluster deployment sets as KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS (README, "Running several instances").
 */
export const CLUSTER_PUBLISH_TIMEOUT_MS = 15_000;
/** Longest wait for the publisher to reach the count at which the next fault strikes: a publish may wait out an election. */
const PHASE_TIMEOUT_MS = 60_000;

/**
 * A publishing run (see startPublishingRun) on a NATS cluster (R3 streams; the run's, unless
 * `servers` name another) and the run's RabbitMQ. Close leaves the namespace on the cluster: its
 * nodes may still be down when a test fails.
 */
export function startClusterRun(name: string, load: PublishLoad, servers = natsCluster().urls): Promise<PublishingRun> {
  return startPublishingRun(name, load, {
    options: (namespace) => ({
      failover: { publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS },
      nats: { servers, streamPrefix: namespace.streamPrefix, replicas: CLUSTER_REPLICAS, publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS },
      rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix },
    }),
    phaseTimeoutMs: PHASE_TIMEOUT_MS,
    purgeOnClose: false,
  });
}

/** The server name of the node leading the (normal, domain) work stream, asked of any running node. */
export async function workStreamLeader(namespace: TestNamespace, domain: string): Promise<string> {
  const running = natsCluster().nodes.filter((node) => natsCluster().isRunning(node.name));
  const nc = await connectNats({ servers: running.map((node) => node.url) });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(new NatsNames(namespace.streamPrefix).workStream('normal', domain));
    const leader = info.cluster?.leader;
    if (!leader) throw new Error(`work stream of ${domain} has no leader (cluster info: ${JSON.stringify(info.cluster)})`);
    return leader;
  } finally {
    await nc.close();
  }
}
