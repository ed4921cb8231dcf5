import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ProcessSpec } from './local-process';

export type BrokerKind = 'nats' | 'rabbitmq';

/** Where a broker comes from, in the order the harness tries them. */
export type BrokerSource = 'env' | 'docker' | 'local';

/** A broker process started from a local binary; `pid` leads its process group. */
export interface LocalBrokerState {
  pid: number;
  spec: ProcessSpec;
  /** Folder holding the store, config and logs; removed at teardown. */
  baseDir: string;
  /** NATS: the monitoring port answering /healthz. */
  monitorPort?: number;
  /** RabbitMQ: our own epmd, bound to 127.0.0.1 and ended at teardown. */
  epmd?: { pid: number; port: number; spec: ProcessSpec };
}

export interface DockerBrokerState {
  containerId: string;
  image: string;
  /** NATS: host port of the monitoring endpoint answering /healthz. */
  monitorPort?: number;
}

export interface BrokerState {
  kind: BrokerKind;
  source: BrokerSource;
  url: string;
  /** Loopback port clients connect to. */
  port: number;
  local?: LocalBrokerState;
  docker?: DockerBrokerState;
}

/** One node of a local cluster. */
export interface ClusterNodeState {
  /** NATS server name (`-n`) or RabbitMQ node name (`kanban1@localhost`). */
  name: string;
  url: string;
  port: number;
  local: LocalBrokerState;
}

/** A three-node cluster started on loopback by the first spec that asks for it (test/harness/cluster-handle.ts). */
export interface ClusterState {
  kind: BrokerKind;
  nodes: ClusterNodeState[];
  /** Folder holding every node's folder (and RabbitMQ's shared cookie); removed at teardown. */
  baseDir: string;
  /** RabbitMQ: the epmd all nodes register with, so they find each other. */
  epmd?: { pid: number; port: number; spec: ProcessSpec };
}

/** What globalSetup found or started; test workers read it and chaos helpers update it. */
export interface HarnessState {
  startedAt: string;
  /** The Jest process that ran globalSetup; a state whose owner is gone was left by an interrupted run. */
  ownerPid: number;
  brokers: Partial<Record<BrokerKind, BrokerState>>;
  /** Brokers of Jest workers 2, 3, … when the run asked for several (KANBAN_TEST_WORKERS): files running side by side never share a broker. */
  otherWorkers?: Array<Partial<Record<BrokerKind, BrokerState>>>;
  /** Why a broker could not be provided, with how to get one; reported when a test asks for it. */
  unavailable: Partial<Record<BrokerKind, string>>;
  /** Clusters started during the run, by the specs that needed them. */
  clusters?: Partial<Record<BrokerKind, ClusterState>>;
}

/** Set by `npm test` (scripts/run-tests.js) to its Jest worker count: globalSetup then starts brokers for each worker. @default 1 */
export const WORKERS_ENV = 'KANBAN_TEST_WORKERS';

/** Every set of brokers of the run: worker 1's, then the other workers'. */
export function allBrokerSets(state: HarnessState): Array<Partial<Record<BrokerKind, BrokerState>>> {
  return [state.brokers, ...(state.otherWorkers ?? [])];
}

/**
 * The brokers of the Jest worker this runs in. A worker beyond the sets globalSetup started (a run
 * with more workers than KANBAN_TEST_WORKERS) uses worker 1's, as every file did before there were sets.
 */
export function brokersOfThisWorker(state: HarnessState): Partial<Record<BrokerKind, BrokerState>> {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return allBrokerSets(state)[worker - 1] ?? state.brokers;
}

/** One state file per Jest run lives here (`.tmp/` is git-ignored): runs in parallel in one checkout keep their own brokers. */
export const HARNESS_RUNS_DIR = resolve(__dirname, '..', '..', '.tmp', 'test-brokers');

/** Set by globalSetup to this run's state file; Jest workers inherit it. */
export const HARNESS_STATE_ENV = 'KANBAN_TEST_HARNESS_STATE';

export function stateFileFor(ownerPid: number): string {
  return join(HARNESS_RUNS_DIR, `run-${ownerPid}.json`);
}

/** State files of every run of this checkout, this one included. */
export function listStateFiles(): string[] {
  try {
    return readdirSync(HARNESS_RUNS_DIR)
      .filter((name) => /^run-\d+\.json$/.test(name))
      .map((name) => join(HARNESS_RUNS_DIR, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function readHarnessState(file = process.env[HARNESS_STATE_ENV]): HarnessState | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as HarnessState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Atomic replace, so a worker never reads a half-written file. */
export function writeHarnessState(state: HarnessState, file = stateFileFor(state.ownerPid)): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 2));
  renameSync(temp, file);
}

/** Applies `change` to the broker's entry of this run and saves it. */
export function updateBrokerState(kind: BrokerKind, change: (broker: BrokerState) => void): void {
  const state = readHarnessState();
  const broker = state && brokersOfThisWorker(state)[kind];
  if (!state || !broker) throw new Error(`No ${kind} broker recorded in ${process.env[HARNESS_STATE_ENV] ?? 'the harness state (globalSetup did not run)'}`);
  change(broker);
  writeHarnessState(state);
}

/** Applies `change` to this run's state and saves it. */
export function updateHarnessState(change: (state: HarnessState) => void): void {
  const state = readHarnessState();
  if (!state) throw new Error(`No harness state in ${process.env[HARNESS_STATE_ENV] ?? 'the environment (globalSetup did not run)'}`);
  change(state);
  writeHarnessState(state);
}
