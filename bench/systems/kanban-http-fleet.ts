import { join } from 'node:path';
import type { ClusterState } from '../../test/harness/broker-state';
import { stopCluster } from '../../test/harness/local-cluster';
import { findNatsServerBinary } from '../../test/harness/local-nats';
import { startLocalNatsCluster } from '../../test/harness/local-nats-cluster';
import { HttpWorkers, postRetryingOn503 } from './http-workers';
import { BENCH_DEADLINE_MS, BENCH_PRIORITY } from './kanban-app';
import { startKanbanServer, type KanbanServerProcess } from './kanban-server-process';
import type { BenchItem, OpenContext, OpenSystem, QueueSystem } from './queue-system';

/** HTTP workers of every fleet: as many as the library's default `maxWorkers`, each pulling 10. */
const HTTP_WORKERS = 10;
/** JetStream replicas on the three-node cluster: every item on every node, as production runs it. */
const CLUSTER_REPLICAS = 3;
/** The server's per-client rate limit (1,000/s by default) would throttle the bench's single client. */
const BENCH_RATE_LIMIT_PER_SECOND = 1_000_000;
const STREAM_PREFIX = 'BENCH';

export type NatsTopology = 'single' | 'cluster';

export interface FleetShape {
  servers: number;
  nats: NatsTopology;
}

/** A fleet opened for one run: the processes whose CPU time the run counts, besides the bench's own. */
export interface OpenFleet extends OpenSystem {
  serverPids: number[];
  natsPids: number[];
  /** Starts the HTTP workers; `onAcked` gets each item once its ack was answered with 200. */
  startWorkers(onAcked: (item: BenchItem) => void): void;
  /** Failed pulls and acks so far (a failure stops its worker). */
  problems(): string[];
  /** Publishes and acks answered 503 (no broker could store them right now) and sent again, so far. */
  retried503(): number;
}

interface FleetNats {
  urls: string[];
  replicas: number;
  pids: number[];
  stop(): Promise<void>;
}

/**
 * kanban as a fleet of apps/kanban-server processes on loopback, on the bench's nats-server or on a
 * three-node cluster started for the run: the producer POSTs /work round-robin over the servers,
 * HTTP workers pull and ack over HTTP.
 */
export function kanbanHttpFleet(shape: FleetShape): QueueSystem {
  const nodes = shape.nats === 'cluster' ? '3-node NATS (R3)' : '1 NATS node';
  return {
    id: `kanban-http-${shape.servers}-server-${shape.nats}-nats`,
    label: `${shape.servers} server${shape.servers > 1 ? 's' : ''}, ${nodes}`,
    unavailable: (brokers) => {
      if (shape.nats === 'single') return brokers.nats ? undefined : `no nats-server: ${brokers.missing.nats}`;
      return findNatsServerBinary() ? undefined : 'nats-server is not installed';
    },
    open: (context) => openFleet(shape, context),
  };
}

/** The fleet behind an opened fleet system, for the scale-out scenario. */
export function openedFleet(open: OpenSystem): OpenFleet {
  if (!('serverPids' in open) || !('startWorkers' in open)) throw new Error('not a kanban HTTP fleet');
  return open as OpenFleet;
}

async function openFleet(shape: FleetShape, context: OpenContext): Promise<OpenFleet> {
  const domain = `bench-${context.tag}`;
  const nats = await fleetNats(shape.nats, context);
  let servers: KanbanServerProcess[];
  try {
    servers = await startServers(shape.servers, nats, context);
  } catch (error) {
    await nats.stop();
    throw error;
  }
  const urls = servers.map((server) => server.url);
  const workers = new HttpWorkers(urls, domain, BENCH_PRIORITY);
  let published = 0;
  let retriedPublishes = 0;
  return {
    serverPids: servers.map((server) => server.pid),
    natsPids: nats.pids,
    publish: async (item) => {
      const url = urls[published++ % urls.length];
      // The key makes a publish sent again after a 503 that was stored after all count once.
      const idempotencyKey = `${item.n}-${item.t}`;
      await postRetryingOn503(
        () => `${url}/work`,
        { priority: BENCH_PRIORITY, domain, payload: item, deadlineMs: BENCH_DEADLINE_MS, idempotencyKey },
        () => retriedPublishes++,
      );
    },
    startConsumers: async (hooks) => workers.start(HTTP_WORKERS, { onPulled: (item) => hooks.onStart(item), onAcked: () => hooks.onAcked() }),
    startWorkers: (onAcked) => workers.start(HTTP_WORKERS, { onPulled: () => undefined, onAcked }),
    problems: () => workers.problems,
    retried503: () => workers.retriedAcks + retriedPublishes,
    close: async () => {
      await workers.stop();
      await Promise.allSettled(servers.map((server) => server.stop()));
      await nats.stop();
    },
  };
}

async function fleetNats(topology: NatsTopology, context: OpenContext): Promise<FleetNats> {
  if (topology === 'single') {
    const nats = context.brokers.nats!;
    return { urls: [nats.url], replicas: 1, pids: [nats.pid()], stop: async () => undefined };
  }
  const cluster: ClusterState = await startLocalNatsCluster();
  return {
    urls: cluster.nodes.map((node) => node.url),
    replicas: CLUSTER_REPLICAS,
    pids: cluster.nodes.map((node) => node.local.pid),
    stop: () => stopCluster(cluster),
  };
}

/**
 * Starts the servers one after another, as a rolling deploy does: three servers creating the same
 * R3 streams at once on a fresh cluster of a loaded machine timed out reading a stream, and a server
 * exits when its broker does not answer at start-up. If one fails, the others are stopped.
 */
async function startServers(count: number, nats: FleetNats, context: OpenContext): Promise<KanbanServerProcess[]> {
  const servers: KanbanServerProcess[] = [];
  try {
    for (let index = 0; index < count; index++) {
      servers.push(
        await startKanbanServer({
          env: {
            KANBAN_NATS_SERVERS: nats.urls.join(','),
            KANBAN_NATS_REPLICAS: String(nats.replicas),
            KANBAN_RATE_LIMIT_PER_SECOND: String(BENCH_RATE_LIMIT_PER_SECOND),
            KANBAN_EMBEDDED_PATH: join(context.tempDir, `${context.tag}-server-${index + 1}.db`),
          },
          streamPrefix: STREAM_PREFIX,
        }),
      );
    }
    return servers;
  } catch (error) {
    await Promise.allSettled(servers.map((server) => server.stop()));
    throw error;
  }
}
