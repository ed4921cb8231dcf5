import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_SIZE } from './local-cluster';
import { findNatsServerBinary } from './local-nats';
import { NATS_CLUSTER_NAME, waitForNatsClusterNode } from './local-nats-cluster';
import { isAlive, launch, terminate } from './local-process';

/** Inside its own namespace every node uses the standard ports. */
const CLIENT_PORT = 4222;
const ROUTE_PORT = 6222;
const MONITOR_PORT = 8222;
const NODE_READY_TIMEOUT_MS = 60_000;

/** One node of the cluster: its namespace, the host end of its link, its address. */
export interface NetnsNatsNode {
  name: string;
  url: string;
  address: string;
  namespace: string;
  hostLink: string;
  pid: number;
  logFile: string;
}

/**
 * A three-node JetStream cluster whose nodes each live in a network namespace of their own,
 * linked by veth pairs to a bridge on the host (a private /24 that never leaves the machine):
 * taking one node's link down partitions it from the other two and from the host, without
 * killing it. Needs root (ip netns); started by the one spec that partitions and stopped in its afterAll.
 */
export class NetnsNatsCluster {
  private constructor(
    readonly nodes: NetnsNatsNode[],
    private readonly bridge: string,
    private readonly baseDir: string,
  ) {}

  /** Whether this process may create network namespaces (CI runs as root). */
  static get supported(): boolean {
    return process.getuid?.() === 0;
  }

  static async start(): Promise<NetnsNatsCluster> {
    const binary = findNatsServerBinary();
    if (!binary) throw new Error('nats-server is not installed (run `bash scripts/install-brokers.sh`)');
    const id = process.pid;
    const subnet = `10.${200 + (Math.floor(id / 256) % 50)}.${id % 256}`;
    const bridge = `kpb${id}`;
    const baseDir = mkdtempSync(join(tmpdir(), 'tps-kanban-netns-cluster-'));
    const nodes: NetnsNatsNode[] = Array.from({ length: CLUSTER_SIZE }, (_, index) => {
      const address = `${subnet}.${11 + index}`;
      return { name: `kanban-part-${index + 1}`, url: `nats://${address}:${CLIENT_PORT}`, address, namespace: `kanban-part-${id}-${index + 1}`, hostLink: `kp${id}h${index + 1}`, pid: 0, logFile: '' };
    });
    const cluster = new NetnsNatsCluster(nodes, bridge, baseDir);
    try {
      ip('link', 'add', bridge, 'type', 'bridge');
      ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      for (const node of nodes) {
        const inner = `kp${id}n${node.name.slice(-1)}`;
        ip('netns', 'add', node.namespace);
        ip('link', 'add', node.hostLink, 'type', 'veth', 'peer', 'name', inner);
        ip('link', 'set', inner, 'netns', node.namespace);
        ip('link', 'set', node.hostLink, 'master', bridge);
        ip('link', 'set', node.hostLink, 'up');
        ip('-n', node.namespace, 'addr', 'add', `${node.address}/24`, 'dev', inner);
        ip('-n', node.namespace, 'link', 'set', inner, 'up');
        ip('-n', node.namespace, 'link', 'set', 'lo', 'up');
      }
      const routes = nodes.map((node) => `nats://${node.address}:${ROUTE_PORT}`);
      for (const [index, node] of nodes.entries()) {
        const nodeDir = join(baseDir, node.name);
        mkdirSync(join(nodeDir, 'jetstream'), { recursive: true });
        node.logFile = join(nodeDir, 'nats-server.log');
        const args = [
          ...['netns', 'exec', node.namespace, binary, '-js', '-a', node.address, '-p', String(CLIENT_PORT), '-m', String(MONITOR_PORT), '-sd', join(nodeDir, 'jetstream')],
          ...['-n', node.name, '--cluster_name', NATS_CLUSTER_NAME, '--cluster', routes[index], '--routes', routes.filter((_, other) => other !== index).join(',')],
        ];
        // `ip netns exec` execs the server in place: the pid is the server's.
        node.pid = launch({ command: 'ip', args, env: {}, cwd: nodeDir, logFile: node.logFile });
      }
      await Promise.all(nodes.map((node) => cluster.waitForMetaLeader(node)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  node(name: string): NetnsNatsNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} in the partition cluster (nodes: ${this.nodes.map((candidate) => candidate.name).join(', ')})`);
    return node;
  }

  /** Takes the node's link down: packets to and from it are dropped (no reset), as in a network partition. */
  cut(name: string): void {
    ip('link', 'set', this.node(name).hostLink, 'down');
  }

  /** Brings the node's link back; resolves once the node sees a JetStream meta leader again. */
  async heal(name: string): Promise<void> {
    const node = this.node(name);
    ip('link', 'set', node.hostLink, 'up');
    await this.waitForMetaLeader(node);
  }

  /** Ends the servers, then removes the namespaces (their links go with them), the bridge and the store dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.filter((node) => node.pid > 0 && isAlive(node.pid)).map((node) => terminate(node.pid)));
    // What a failed start() did not get to create is not there to remove.
    for (const node of this.nodes) if (existsSync(`/run/netns/${node.namespace}`)) ip('netns', 'del', node.namespace);
    if (existsSync(`/sys/class/net/${this.bridge}`)) ip('link', 'del', this.bridge);
    rmSync(this.baseDir, { recursive: true, force: true });
  }

  private waitForMetaLeader(node: NetnsNatsNode): Promise<void> {
    return waitForNatsClusterNode(MONITOR_PORT, node.logFile, NODE_READY_TIMEOUT_MS, node.address);
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
