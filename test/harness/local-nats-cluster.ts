import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNodeState, ClusterState } from './broker-state';
import { freePort } from './free-port';
import { findNatsServerBinary, NATS_READY_TIMEOUT_MS, waitForNatsReady } from './local-nats';
import { waitFor } from './wait-for';
import { CLUSTER_SIZE, stopCluster } from './local-cluster';
import { launch, type ProcessSpec } from './local-process';

export const NATS_CLUSTER_NAME = 'kanban';

/**
 * Starts a three-node JetStream cluster on loopback: nats-server with a name, a route to each
 * other node and a store dir of its own per node. Resolves once every node's /healthz answers.
 */
export async function startLocalNatsCluster(): Promise<ClusterState> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (run `bash scripts/install-brokers.sh`)');
  const baseDir = mkdtempSync(join(tmpdir(), 'tps-kanban-nats-cluster-'));
  const ports = [];
  for (let index = 0; index < CLUSTER_SIZE; index++) ports.push({ client: await freePort(), monitor: await freePort(), route: await freePort() });
  const routes = ports.map((port) => `nats://127.0.0.1:${port.route}`);
  const nodes: ClusterNodeState[] = ports.map((port, index) => {
    const name = `kanban-nats-${index + 1}`;
    const nodeDir = join(baseDir, name);
    mkdirSync(join(nodeDir, 'jetstream'), { recursive: true });
    const args = [
      ...['-js', '-a', '127.0.0.1', '-p', String(port.client), '-m', String(port.monitor), '-sd', join(nodeDir, 'jetstream')],
      ...['-n', name, '--cluster_name', NATS_CLUSTER_NAME, '--cluster', routes[index], '--routes', routes.filter((_, other) => other !== index).join(',')],
    ];
    const spec: ProcessSpec = { command: binary, args, env: {}, cwd: nodeDir, logFile: join(nodeDir, 'nats-server.log') };
    return { name, url: `nats://127.0.0.1:${port.client}`, port: port.client, local: { pid: 0, spec, baseDir: nodeDir, monitorPort: port.monitor } };
  });
  const cluster: ClusterState = { kind: 'nats', nodes, baseDir };
  try {
    for (const node of nodes) node.local.pid = launch(node.local.spec);
    await Promise.all(nodes.map((node) => waitForNatsReady(node.local.monitorPort as number, node.local.spec.logFile)));
  } catch (error) {
    await stopCluster(cluster);
    throw error;
  }
  return cluster;
}

/**
 * Resolves once a (re)started node has joined the cluster: its /jsz names a meta leader. /healthz
 * would also wait until every replica it holds is current, and a consumer nothing writes to may stay
 * "not current" well past a restart, though it serves.
 */
export async function waitForNatsClusterNode(monitorPort: number, logFile: string, timeoutMs = NATS_READY_TIMEOUT_MS, host = '127.0.0.1'): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(`http://${host}:${monitorPort}/jsz`, { signal: AbortSignal.timeout(1_000) });
      const jsz = (await response.json()) as { meta_cluster?: { leader?: string } };
      if (!jsz.meta_cluster?.leader) throw new Error(`no JetStream meta leader yet: ${JSON.stringify(jsz.meta_cluster ?? {})}`);
      return true;
    },
    { timeoutMs, intervalMs: 100, description: `nats-server on ${host}:${monitorPort} to join its cluster (log: ${logFile})` },
  );
}
