import { closeSync, openSync, rmSync } from 'node:fs';
import { HARNESS_STATE_ENV, readHarnessState, updateHarnessState, type BrokerKind, type ClusterNodeState, type ClusterState } from './broker-state';
import { startLocalNatsCluster, waitForNatsClusterNode } from './local-nats-cluster';
import { startLocalRabbitMqCluster } from './local-rabbitmq-cluster';
import { relaunchLocalRabbitMq } from './local-rabbitmq';
import { isAlive, kill9, launch } from './local-process';
import { waitFor } from './wait-for';

/** A RabbitMQ cluster boots and joins in about a minute here; a spec waiting for another worker's start waits that long and more. */
const CLUSTER_START_WAIT_MS = 300_000;

/**
 * A three-node cluster of the test run, started on loopback from the local binaries by the first
 * spec that calls `start()` and ended by globalTeardown, so suites without cluster specs never pay
 * for one. Chaos helpers act on one node by name and record its new pid in the run's state file.
 */
export class ClusterHandle {
  constructor(readonly kind: BrokerKind) {}

  /** Starts the cluster unless this run already has it; a worker starting it meanwhile is waited for. */
  async start(): Promise<void> {
    if (this.recorded()) return;
    const lock = `${stateFile()}.${this.kind}-cluster.lock`;
    let locked = false;
    await waitFor(() => (locked = tryLock(lock)) || this.recorded() !== undefined, { timeoutMs: CLUSTER_START_WAIT_MS, intervalMs: 500, description: `${this.kind} cluster start by another worker` });
    if (!locked) return;
    try {
      if (this.recorded()) return;
      const cluster = this.kind === 'nats' ? await startLocalNatsCluster() : await startLocalRabbitMqCluster();
      updateHarnessState((state) => {
        state.clusters = { ...state.clusters, [this.kind]: cluster };
      });
    } finally {
      rmSync(lock, { force: true });
    }
  }

  /** Every node's client URL, in node order. */
  get urls(): string[] {
    return this.state.nodes.map((node) => node.url);
  }

  get nodes(): ClusterNodeState[] {
    return this.state.nodes;
  }

  node(name: string): ClusterNodeState {
    const node = this.state.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} in the ${this.kind} cluster (nodes: ${this.state.nodes.map((candidate) => candidate.name).join(', ')})`);
    return node;
  }

  isRunning(name: string): boolean {
    return isAlive(this.node(name).local.pid);
  }

  /** kill -9 of the node: no shutdown, no flush. Resolves once the process is gone. */
  async kill9(name: string): Promise<void> {
    await kill9(this.node(name).local.pid);
  }

  /** Launches a stopped node again with its ports, name and store; resolves once it serves clients. */
  async restart(name: string): Promise<void> {
    const node = this.node(name);
    if (isAlive(node.local.pid)) throw new Error(`${this.kind} node ${name} still runs (pid ${node.local.pid}); kill it first`);
    const pid = this.kind === 'nats' ? await relaunchNatsNode(node) : await relaunchLocalRabbitMq(node.local);
    updateHarnessState((state) => {
      const recorded = state.clusters?.[this.kind]?.nodes.find((candidate) => candidate.name === name);
      if (recorded) recorded.local.pid = pid;
    });
  }

  private recorded(): ClusterState | undefined {
    return readHarnessState()?.clusters?.[this.kind];
  }

  private get state(): ClusterState {
    const cluster = this.recorded();
    if (!cluster) throw new Error(`no ${this.kind} cluster in this run: call ${this.kind}Cluster().start() first (in beforeAll)`);
    return cluster;
  }
}

function stateFile(): string {
  const file = process.env[HARNESS_STATE_ENV];
  if (!file) throw new Error(`${HARNESS_STATE_ENV} is not set: the Jest globalSetup of test/harness did not run`);
  return file;
}

async function relaunchNatsNode(node: ClusterNodeState): Promise<number> {
  const pid = launch(node.local.spec);
  await waitForNatsClusterNode(node.local.monitorPort as number, node.local.spec.logFile);
  return pid;
}

/** Creates `file` exclusively: true for the one caller that created it. */
function tryLock(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The run's three-node JetStream cluster (nodes `kanban-nats-1` … `kanban-nats-3`). */
export function natsCluster(): ClusterHandle {
  return new ClusterHandle('nats');
}

/** The run's three-node RabbitMQ cluster (nodes `kanban1@localhost` … `kanban3@localhost`). */
export function rabbitmqCluster(): ClusterHandle {
  return new ClusterHandle('rabbitmq');
}
