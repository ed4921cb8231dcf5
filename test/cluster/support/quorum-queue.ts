import { rabbitmqctlOutput } from '../../harness/local-rabbitmq';
import { rabbitmqCluster } from '../../harness';

const RABBITMQCTL_TIMEOUT_MS = 30_000;

/** A quorum queue's leader and members, as a running node of the cluster reports them. */
export interface QuorumQueueInfo {
  leader: string;
  members: string[];
}

export async function quorumQueueInfo(queue: string): Promise<QuorumQueueInfo> {
  const node = rabbitmqCluster().nodes.find((candidate) => rabbitmqCluster().isRunning(candidate.name));
  if (!node) throw new Error('no node of the RabbitMQ cluster runs');
  const printed = await rabbitmqctlOutput(node.local, ['list_queues', 'name', 'leader', 'members', '--formatter', 'json', '--quiet'], RABBITMQCTL_TIMEOUT_MS);
  const rows = JSON.parse(printed) as Array<{ name: string; leader: string; members: string[] }>;
  const row = rows.find((candidate) => candidate.name === queue);
  if (!row) throw new Error(`queue ${queue} is not on the cluster (queues: ${rows.map((candidate) => candidate.name).join(', ')})`);
  return { leader: row.leader, members: row.members };
}
