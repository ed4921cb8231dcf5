import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNodeState, ClusterState } from './broker-state';
import { freePort } from './free-port';
import { CLUSTER_SIZE, stopCluster } from './local-cluster';
import { launch, type ProcessSpec } from './local-process';
import { epmdProcessSpec, RABBITMQ_SERVER_BINARY, rabbitMqInstalled, rabbitMqNodeEnv, rabbitmqctl, waitForRabbitMqReady, writeRabbitMqTestConfig } from './local-rabbitmq';

/** One rabbitmqctl step of joining a node (stop_app, join_cluster, start_app). */
const JOIN_STEP_TIMEOUT_MS = 60_000;

/**
 * Starts three RabbitMQ nodes (`kanban1@localhost` …) on loopback, registered with one private
 * epmd and sharing one Erlang cookie, then joins the second and third to the first. Resolves once
 * every node runs as a member of the cluster.
 */
export async function startLocalRabbitMqCluster(): Promise<ClusterState> {
  if (!rabbitMqInstalled()) throw new Error('rabbitmq-server is not installed (run `bash scripts/install-brokers.sh`)');
  const baseDir = mkdtempSync(join(tmpdir(), 'tps-kanban-rabbitmq-cluster-'));
  const home = join(baseDir, 'home');
  mkdirSync(home);
  // Written before any node starts: nodes that each created a cookie of their own could not talk.
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
  const configFile = join(baseDir, 'rabbitmq.conf');
  writeRabbitMqTestConfig(configFile);
  const epmdPort = await freePort();
  const epmdSpec = epmdProcessSpec(baseDir, epmdPort);
  const cluster: ClusterState = { kind: 'rabbitmq', nodes: [], baseDir, epmd: { pid: launch(epmdSpec), port: epmdPort, spec: epmdSpec } };
  try {
    for (let index = 0; index < CLUSTER_SIZE; index++) {
      const name = `kanban${index + 1}@localhost`;
      const nodeDir = join(baseDir, `kanban${index + 1}`);
      mkdirSync(nodeDir);
      const [port, distPort] = [await freePort(), await freePort()];
      const env = rabbitMqNodeEnv({ baseDir: nodeDir, home, configFile, nodeName: name, port, distPort, epmdPort });
      const spec: ProcessSpec = { command: RABBITMQ_SERVER_BINARY, args: [], env, cwd: nodeDir, logFile: join(nodeDir, 'rabbitmq-server.log') };
      const node: ClusterNodeState = { name, url: `amqp://guest:guest@127.0.0.1:${port}`, port, local: { pid: launch(spec), spec, baseDir: nodeDir } };
      cluster.nodes.push(node);
    }
    await Promise.all(cluster.nodes.map((node) => waitForRabbitMqReady(node.local)));
    const [first, ...others] = cluster.nodes;
    for (const node of others) {
      for (const step of [['stop_app'], ['join_cluster', first.name], ['start_app']]) {
        const code = await rabbitmqctl(node.local, step, JOIN_STEP_TIMEOUT_MS);
        if (code !== 0) throw new Error(`rabbitmqctl ${step.join(' ')} on ${node.name} exited with ${code} (log: ${node.local.spec.env.RABBITMQ_LOG_BASE})`);
      }
    }
  } catch (error) {
    await stopCluster(cluster);
    throw error;
  }
  return cluster;
}
