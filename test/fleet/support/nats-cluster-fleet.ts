import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { TransportSettings } from '../../../libs/kanban/src/transport';
import { NatsTransport } from '../../../libs/kanban/src/transports/nats';
import { natsCluster, testNamespace } from '../../harness';
import { CLUSTER_PUBLISH_TIMEOUT_MS, CLUSTER_REPLICAS } from '../../cluster/support/cluster-run';

/** Cluster start-up (once per run) with room for a loaded machine. */
export const CLUSTER_START_TIMEOUT_MS = 180_000;

/** Transports of several server instances sharing one stream prefix on the run's three-node cluster (R3 streams). */
export interface NatsClusterFleet {
  prefix: string;
  instances: NatsTransport[];
  /** Closes the instances and deletes the prefix's streams from the cluster. */
  stop(): Promise<void>;
}

export async function startNatsClusterFleet(count: number, settings: TransportSettings): Promise<NatsClusterFleet> {
  const prefix = testNamespace().streamPrefix;
  const instances = Array.from(
    { length: count },
    () => new NatsTransport({ servers: natsCluster().urls, streamPrefix: prefix, replicas: CLUSTER_REPLICAS, publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS }, settings),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((transport) => transport.close()));
    const nc = await connect({ servers: natsCluster().urls });
    try {
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    } finally {
      await nc.close();
    }
  };
  // One after another: the first declares the R3 streams, which a loaded machine does slowly.
  for (const transport of instances) await transport.connect();
  return { prefix, instances, stop };
}
