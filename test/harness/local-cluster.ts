import { rmSync } from 'node:fs';
import type { ClusterState } from './broker-state';
import { commandLineOf, isAlive, terminate } from './local-process';

/** Three nodes: a JetStream or Raft quorum (and the items it holds) survives the loss of any one. */
export const CLUSTER_SIZE = 3;

/**
 * Ends every node (SIGTERM, then SIGKILL if it outstays), then the cluster's epmd, and removes the
 * cluster's dirs. A recorded pid that now runs something else (reused after an interrupted run) is left alone.
 */
export async function stopCluster(cluster: ClusterState): Promise<void> {
  const ours = (pid: number, command: string): boolean => pid > 0 && isAlive(pid) && commandLineOf(pid).includes(command);
  await Promise.all(cluster.nodes.filter((node) => ours(node.local.pid, node.local.spec.command)).map((node) => terminate(node.local.pid)));
  if (cluster.epmd && ours(cluster.epmd.pid, cluster.epmd.spec.command)) await terminate(cluster.epmd.pid);
  rmSync(cluster.baseDir, { recursive: true, force: true });
}
