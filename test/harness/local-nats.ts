import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { findBinary } from './find-binary';
import { launch, terminate, type ProcessSpec } from './local-process';
import type { LocalBrokerState } from './broker-state';
import { waitFor } from './wait-for';

/** Where Debian's `nats-server` package puts the binary; PATH is searched first. */
const NATS_SERVER_BINARIES = ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
/** JetStream replays its store on start; a large store after a kill -9 takes a few seconds. */
export const NATS_READY_TIMEOUT_MS = 30_000;

export function findNatsServerBinary(): string | undefined {
  return findBinary(NATS_SERVER_BINARIES);
}

export interface LocalNatsOptions {
  /** Extra lines for the server config file, e.g. an `authorization { … }` block. */
  configLines?: string[];
  /** Prefix of the temp folder, to tell servers apart in `/tmp`. @default 'tps-kanban-nats-' */
  dirPrefix?: string;
  /** Start with JetStream; false gives a core-only server. @default true */
  jetStream?: boolean;
}

/**
 * Starts `nats-server -js` on free loopback ports with its own store dir and waits until
 * /healthz says JetStream is ready.
 */
export async function startLocalNats(options: LocalNatsOptions = {}): Promise<LocalBrokerState & { port: number }> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (run `bash scripts/install-brokers.sh`)');
  const baseDir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'tps-kanban-nats-'));
  const storeDir = join(baseDir, 'jetstream');
  mkdirSync(storeDir);
  const [port, monitorPort] = [await freePort(), await freePort()];
  const args = [...(options.jetStream === false ? [] : ['-js']), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', storeDir];
  if (options.configLines?.length) {
    const configFile = join(baseDir, 'nats-server.conf');
    writeFileSync(configFile, `${options.configLines.join('\n')}\n`);
    args.push('-c', configFile);
  }
  const spec: ProcessSpec = { command: binary, args, env: {}, cwd: baseDir, logFile: join(baseDir, 'nats-server.log') };
  const pid = launch(spec);
  await waitForNatsReady(monitorPort, spec.logFile);
  return { pid, spec, baseDir, monitorPort, port };
}

/** Launches the recorded process again: same ports, same store. */
export async function relaunchLocalNats(local: LocalBrokerState): Promise<number> {
  const pid = launch(local.spec);
  await waitForNatsReady(local.monitorPort as number, local.spec.logFile);
  return pid;
}

export async function waitForNatsReady(monitorPort: number, logFile: string, timeoutMs = NATS_READY_TIMEOUT_MS): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1_000) });
      // The body says what is not ready yet (e.g. a clustered stream still catching up): it ends up in the timeout's message.
      if (!response.ok) throw new Error(`/healthz ${response.status}: ${(await response.text()).trim()}`);
      return true;
    },
    { timeoutMs, intervalMs: 100, description: `nats-server /healthz on 127.0.0.1:${monitorPort} (log: ${logFile})` },
  );
}

/** A nats-server of its own for one test (e.g. with authorization), not shared with other suites. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  /** Stops the server and removes its store. */
  stop(): Promise<void>;
}

export async function startPrivateNatsServer(options: LocalNatsOptions = {}): Promise<PrivateNatsServer> {
  const local = await startLocalNats({ dirPrefix: 'tps-kanban-nats-private-', ...options });
  return {
    url: `nats://127.0.0.1:${local.port}`,
    port: local.port,
    stop: async () => {
      await terminate(local.pid);
      rmSync(local.baseDir, { recursive: true, force: true });
    },
  };
}
