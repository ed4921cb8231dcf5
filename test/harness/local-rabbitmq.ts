import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { launch, terminate, type ProcessSpec } from './local-process';
import type { LocalBrokerState } from './broker-state';
import { waitFor } from './wait-for';

/** Debian's layout. The /usr/sbin wrappers switch user and read another cookie, so the harness calls these directly. */
export const RABBITMQ_SERVER_BINARY = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const RABBITMQCTL_BINARY = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const EPMD_BINARIES = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd'];
const ERL_BINARY = 'erl';
/** One `erl` run reading or editing a dets file. */
const ERL_TIMEOUT_MS = 20_000;
/** The node boots in 6–9 s here; quorum queues recovering after a kill -9 add a few more. */
export const RABBITMQ_READY_TIMEOUT_MS = 90_000;
/** Quorum queues keep their WAL in memory up to 512 MiB by default; 64 MiB keeps the test broker near 250 MB. */
const RABBITMQ_TEST_CONFIG = ['raft.wal_max_size_bytes = 67108864', 'log.console = false', 'log.file.level = info'];

export function rabbitMqInstalled(): boolean {
  return existsSync(RABBITMQ_SERVER_BINARY) && existsSync(RABBITMQCTL_BINARY) && EPMD_BINARIES.some((path) => existsSync(path));
}

/**
 * Starts a private epmd and `rabbitmq-server` on free loopback ports with every path in a temp dir
 * (HOME too, so the Erlang cookie lives there), then waits for `rabbitmqctl await_startup`.
 * @param extraConfig rabbitmq.conf lines added to the test defaults (a TLS listener, say).
 */
export async function startLocalRabbitMq(extraConfig: readonly string[] = []): Promise<LocalBrokerState & { port: number }> {
  if (!rabbitMqInstalled()) throw new Error('rabbitmq-server is not installed (run `bash scripts/install-brokers.sh`)');
  const baseDir = mkdtempSync(join(tmpdir(), 'tps-kanban-rabbitmq-'));
  const home = join(baseDir, 'home');
  mkdirSync(home);
  const configFile = join(baseDir, 'rabbitmq.conf');
  writeRabbitMqTestConfig(configFile, extraConfig);
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const env = rabbitMqNodeEnv({ baseDir, home, configFile, nodeName: 'rabbit@localhost', port, distPort, epmdPort });
  const epmdSpec = epmdProcessSpec(baseDir, epmdPort);
  const epmdPid = launch(epmdSpec);
  const spec: ProcessSpec = { command: RABBITMQ_SERVER_BINARY, args: [], env, cwd: baseDir, logFile: join(baseDir, 'rabbitmq-server.log') };
  const local: LocalBrokerState = { pid: 0, spec, baseDir, epmd: { pid: epmdPid, port: epmdPort, spec: epmdSpec } };
  try {
    local.pid = launch(spec);
    await waitForRabbitMqReady(local);
  } catch (error) {
    if (local.pid) await terminate(local.pid);
    await terminate(epmdPid);
    throw error;
  }
  return { ...local, port };
}

/** Where one node keeps its data, and the ports and names it uses: all under `baseDir` except `home` (the cookie's folder) and `configFile`, which nodes of one cluster share. */
export interface RabbitMqNodeLayout {
  baseDir: string;
  home: string;
  configFile: string;
  nodeName: string;
  port: number;
  distPort: number;
  epmdPort: number;
}

/** The environment `rabbitmq-server` and `rabbitmqctl` need for one node: every path in the node's own dirs, loopback only. */
export function rabbitMqNodeEnv(layout: RabbitMqNodeLayout): Record<string, string> {
  const { baseDir } = layout;
  for (const dir of [join(baseDir, 'mnesia'), join(baseDir, 'log')]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(baseDir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(baseDir, 'rabbitmq-env.conf'), '');
  return {
    HOME: layout.home,
    RABBITMQ_NODENAME: layout.nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(layout.port),
    RABBITMQ_DIST_PORT: String(layout.distPort),
    RABBITMQ_CONFIG_FILE: layout.configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(baseDir, 'advanced.config'),
    RABBITMQ_MNESIA_BASE: join(baseDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(baseDir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(baseDir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(baseDir, 'rabbitmq-env.conf'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(layout.epmdPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

/** A private epmd on `port`: nodes registered with it find each other, and no other Erlang node on the machine. */
export function epmdProcessSpec(baseDir: string, port: number): ProcessSpec {
  const command = EPMD_BINARIES.find((path) => existsSync(path)) as string;
  return { command, args: ['-address', '127.0.0.1', '-port', String(port)], env: {}, cwd: baseDir, logFile: join(baseDir, 'epmd.log') };
}

/** Writes the test config (a small quorum WAL, file logs) nodes read, with `extraConfig` lines added. */
export function writeRabbitMqTestConfig(configFile: string, extraConfig: readonly string[] = []): void {
  writeFileSync(configFile, `${[...RABBITMQ_TEST_CONFIG, ...extraConfig].join('\n')}\n`);
}

/** Launches the recorded node again: same ports, node name, cookie and mnesia dir. */
export async function relaunchLocalRabbitMq(local: LocalBrokerState): Promise<number> {
  const pid = launch(local.spec);
  await waitForRabbitMqReady({ ...local, pid });
  return pid;
}

/** `rabbitmqctl await_startup` with the node's own HOME (cookie) and epmd. */
export async function waitForRabbitMqReady(local: LocalBrokerState, timeoutMs = RABBITMQ_READY_TIMEOUT_MS): Promise<void> {
  const timeoutSeconds = Math.ceil(timeoutMs / 1_000);
  await waitFor(() => rabbitmqctl(local, ['await_startup', '--timeout', String(timeoutSeconds)], timeoutMs).then((code) => code === 0), {
    timeoutMs,
    intervalMs: 500,
    description: `rabbitmq-server to start (log: ${local.spec.logFile} and ${local.spec.env.RABBITMQ_LOG_BASE})`,
  });
}

/** Runs a rabbitmqctl command against the local node and resolves to what it printed; rejects when it fails. */
export function rabbitmqctlOutput(local: LocalBrokerState, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(RABBITMQCTL_BINARY, ['-n', local.spec.env.RABBITMQ_NODENAME, ...args], { env: { ...process.env, ...local.spec.env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`rabbitmqctl ${args.join(' ')} on ${local.spec.env.RABBITMQ_NODENAME} failed: ${error.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Runs a rabbitmqctl command against the local node; resolves to its exit code. */
export function rabbitmqctl(local: LocalBrokerState, args: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(RABBITMQCTL_BINARY, ['-n', local.spec.env.RABBITMQ_NODENAME, ...args], {
      env: { ...process.env, ...local.spec.env },
      stdio: 'ignore',
      timeout: timeoutMs,
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

/** The Ra server name RabbitMQ gives the quorum queue `queue` of the default vhost. */
export function raServerName(queue: string): string {
  return `%2F_${queue}`;
}

/** Where Ra keeps its directory of server names (the names it restarts after a restart of the node). */
function raNamesFile(local: LocalBrokerState): string {
  const node = local.spec.env.RABBITMQ_NODENAME;
  return join(local.spec.env.RABBITMQ_MNESIA_BASE, node, 'quorum', node, 'names.dets');
}

/** Runs `erl -eval` on a dets file; resolves to what it printed. */
function erlOnDets(file: string, expression: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ERL_BINARY,
      ['-noshell', '-eval', `{ok, T} = dets:open_file(t, [{file, "${file}"}]), ${expression}, ok = dets:close(T), halt().`],
      { timeout: ERL_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`erl on ${file} failed: ${error.message} ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * Ra server names the node has written to disk in its directory (names.dets), read from a copy so
 * the running node is not disturbed. Ra saves that file only once it has been left alone for 500 ms,
 * and RabbitMQ 3.10 brings a quorum queue whose name was not saved back after a kill -9 as a new,
 * empty member that never elects a leader (see the RabbitMQ transport README): a chaos test waits
 * until its queues are in here before it kills the node.
 */
export async function persistedRaNames(local: LocalBrokerState): Promise<string[]> {
  const copy = join(local.baseDir, `names-copy-${process.pid}-${Date.now()}.dets`);
  copyFileSync(raNamesFile(local), copy);
  try {
    const printed = await erlOnDets(copy, `[io:format("~s~n", [N]) || {N, _} <- dets:match_object(T, {'_', '_'})]`);
    return printed.split('\n').filter((line) => line.length > 0);
  } finally {
    rmSync(copy, { force: true });
  }
}

/**
 * Drops a Ra server name from the directory of a node that is not running: the state a kill -9
 * leaves when Ra had not saved the name yet (for tests of a quorum queue that comes back without a
 * leader).
 */
export async function forgetRaName(local: LocalBrokerState, serverName: string): Promise<void> {
  await erlOnDets(raNamesFile(local), `ok = dets:delete(T, '${serverName}')`);
}
