import { rmSync } from 'node:fs';
import { allBrokerSets, HARNESS_STATE_ENV, listStateFiles, readHarnessState, stateFileFor, WORKERS_ENV, writeHarnessState, type BrokerKind, type BrokerState, type HarnessState } from './broker-state';
import { dockerEngineAnswers, startDockerBroker } from './docker-brokers';
import { startLocalNats } from './local-nats';
import { startLocalRabbitMq } from './local-rabbitmq';
import { stopCluster } from './local-cluster';
import { commandLineOf, isAlive, terminate } from './local-process';

/** Env vars that point the harness at brokers someone else runs. */
export const BROKER_URL_ENV: Record<BrokerKind, string> = {
  nats: 'KANBAN_TEST_NATS_URL',
  rabbitmq: 'KANBAN_TEST_RABBITMQ_URL',
};
/** Comma list of brokers to provide (e.g. `nats` for a NATS-only run). @default 'nats,rabbitmq' */
export const BROKERS_ENV = 'KANBAN_TEST_BROKERS';
const ALL_BROKERS: BrokerKind[] = ['nats', 'rabbitmq'];

export function howToGetBroker(kind: BrokerKind, reason: string): string {
  return (
    `No ${kind} broker for the tests (${reason}). Get one of: ` +
    `set ${BROKER_URL_ENV[kind]} to a running broker; start a Docker engine (testcontainers runs the image of docker-compose.test.yml); ` +
    `or install the local binaries with \`bash scripts/install-brokers.sh\`.`
  );
}

function requestedBrokers(): BrokerKind[] {
  const list = process.env[BROKERS_ENV];
  if (!list) return ALL_BROKERS;
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name): name is BrokerKind => ALL_BROKERS.includes(name as BrokerKind));
}

function brokerFromEnv(kind: BrokerKind): BrokerState | undefined {
  const url = process.env[BROKER_URL_ENV[kind]];
  if (!url) return undefined;
  const parsed = new URL(url);
  const port = Number(parsed.port) || (kind === 'nats' ? 4222 : 5672);
  return { kind, source: 'env', url, port };
}

async function provide(kind: BrokerKind, useDocker: boolean): Promise<BrokerState> {
  const fromEnv = brokerFromEnv(kind);
  if (fromEnv) return fromEnv;
  if (useDocker) return startDockerBroker(kind);
  if (kind === 'nats') {
    const local = await startLocalNats();
    return { kind, source: 'local', url: `nats://127.0.0.1:${local.port}`, port: local.port, local };
  }
  const local = await startLocalRabbitMq();
  return { kind, source: 'local', url: `amqp://guest:guest@127.0.0.1:${local.port}`, port: local.port, local };
}

/** Ends what earlier runs left behind when they were interrupted before their teardown (their Jest process is gone). */
async function reapInterruptedRuns(): Promise<void> {
  for (const file of listStateFiles()) {
    const previous = readHarnessState(file);
    if (previous && isAlive(previous.ownerPid)) continue;
    await stopBrokers(previous);
    rmSync(file, { force: true });
  }
}

async function stopBrokers(previous: HarnessState | undefined): Promise<void> {
  if (!previous) return;
  for (const cluster of Object.values(previous.clusters ?? {})) {
    if (cluster) await stopCluster(cluster);
  }
  for (const broker of allBrokerSets(previous).flatMap((set) => Object.values(set))) {
    const local = broker?.local;
    if (!local) continue;
    const leftovers = [{ pid: local.pid, command: local.spec.command }, ...(local.epmd ? [{ pid: local.epmd.pid, command: local.epmd.spec.command }] : [])];
    for (const leftover of leftovers) {
      const commandLine = commandLineOf(leftover.pid);
      if (isAlive(leftover.pid) && commandLine.includes(leftover.command)) await terminate(leftover.pid);
    }
    rmSync(local.baseDir, { recursive: true, force: true });
  }
}

/** Jest workers that get brokers of their own (KANBAN_TEST_WORKERS). */
function workerCount(): number {
  const count = Number(process.env[WORKERS_ENV] ?? '1');
  if (!Number.isInteger(count) || count < 1) throw new Error(`${WORKERS_ENV} must be a whole number of at least 1, not ${process.env[WORKERS_ENV]}`);
  return count;
}

/**
 * Jest globalSetup: provides each broker once per test run (once per worker with
 * KANBAN_TEST_WORKERS), in the order URL from the environment, testcontainers, local binary, and
 * records them for the test workers.
 */
export default async function globalSetup(): Promise<void> {
  await reapInterruptedRuns();
  const kinds = requestedBrokers();
  const useDocker = kinds.some((kind) => !process.env[BROKER_URL_ENV[kind]]) && (await dockerEngineAnswers());
  const state: HarnessState = { startedAt: new Date().toISOString(), ownerPid: process.pid, brokers: {}, otherWorkers: [], unavailable: {} };
  process.env[HARNESS_STATE_ENV] = stateFileFor(process.pid);
  const sets: Array<HarnessState['brokers']> = Array.from({ length: workerCount() }, () => ({}));
  await Promise.all(
    sets.flatMap((set) =>
      kinds.map(async (kind) => {
        try {
          set[kind] = await provide(kind, useDocker);
        } catch (error) {
          state.unavailable[kind] = howToGetBroker(kind, (error as Error).message);
        }
      }),
    ),
  );
  [state.brokers, ...state.otherWorkers] = sets;
  for (const kind of ALL_BROKERS.filter((name) => !kinds.includes(name))) {
    state.unavailable[kind] = howToGetBroker(kind, `not requested: ${BROKERS_ENV}=${process.env[BROKERS_ENV]}`);
  }
  writeHarnessState(state);
  const summary = allBrokerSets(state).flatMap((set) => Object.values(set).map((broker) => `${broker?.kind}=${broker?.source} ${redact(broker?.url ?? '')}`));
  const missing = kinds.filter((kind) => !state.brokers[kind]).map((kind) => `\n[test brokers] ${state.unavailable[kind]}`);
  // Suites that need no broker still run; a test that asks for a missing one fails with this message.
  process.stdout.write(`\n[test brokers] ${summary.join(', ') || 'none'}${missing.join('')}\n`);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
