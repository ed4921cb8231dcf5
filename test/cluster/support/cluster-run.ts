import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { KanbanEvents, type KanbanModuleOptions } from '../../../libs/kanban/src';
import { NatsNames } from '../../../libs/kanban/src/transports/nats/nats-names';
import { natsCluster, rabbitmqBroker, testNamespace, waitFor, type TestNamespace } from '../../harness';
import { AckWindow } from '../../chaos/support/ack-window';
import { faultWithSnapshot, type FaultSnapshot } from '../../chaos/support/nats-app';
import { createChaosApp, type ChaosApp } from '../../failover/support/chaos-app';
import { SteadyPublisher } from '../../failover/support/steady-publisher';
import { Ledger } from '../../ledger/ledger';

/** Replicas of every stream on the three-node cluster: one node's loss keeps a quorum of two. */
export const CLUSTER_REPLICAS = 3;
/**
 * A publish waits out one JetStream leader election (4–9 s in nats-server) before it fails over:
 * what a cluster deployment sets as KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS (README, "Running several instances").
 */
export const CLUSTER_PUBLISH_TIMEOUT_MS = 15_000;
/** Longest wait for the publisher to reach the count at which the next fault strikes. */
const PHASE_TIMEOUT_MS = 60_000;

/** A cluster chaos test's fixture: the failover app on the run's NATS cluster (R3 streams) and RabbitMQ, a ledger, a steady publisher. */
export interface ClusterRun {
  namespace: TestNamespace;
  domain: string;
  ledger: Ledger;
  app: ChaosApp;
  publisher: SteadyPublisher;
  launched(count: number): Promise<void>;
  fault(fault: () => Promise<void>): Promise<FaultSnapshot>;
  close(): Promise<void>;
}

export async function startClusterRun(name: string, load: { count: number; ratePerSecond: number; maxInFlight: number }, options: KanbanModuleOptions = {}): Promise<ClusterRun> {
  const namespace = testNamespace();
  const domain = namespace.domain(name);
  const ledger = new Ledger();
  const app = await createChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt), {
    failover: { publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS },
    ...options,
    nats: { servers: natsCluster().urls, streamPrefix: namespace.streamPrefix, replicas: CLUSTER_REPLICAS, publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS },
    rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix },
  });
  const acks = new AckWindow(app.module.get(KanbanEvents), domain);
  const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), { ...load, keyPrefix: name });
  return {
    namespace,
    domain,
    ledger,
    app,
    publisher,
    async launched(count) {
      await waitFor(() => publisher.launched >= count, { timeoutMs: PHASE_TIMEOUT_MS, description: `${count} publishes launched` });
    },
    fault: (fault) => faultWithSnapshot({ queue: app.queue, acks }, domain, fault),
    async close() {
      acks.close();
      await app.close();
    },
  };
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
