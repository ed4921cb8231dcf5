import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/harness/free-port';
import { launch, terminate, type ProcessSpec } from '../../test/harness/local-process';
import { waitFor } from '../../test/harness/wait-for';

const REDIS_SERVER_BINARIES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];
const REDIS_READY_TIMEOUT_MS = 15_000;

/**
 * BullMQ's documented production setting: append-only file synced every second. It is weaker than
 * the other systems' (JetStream and RabbitMQ confirm after a write, the embedded store after an
 * fsync), which the results note says.
 */
const REDIS_PERSISTENCE_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

export interface LocalRedis {
  host: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function findRedisServerBinary(): string | undefined {
  return REDIS_SERVER_BINARIES.find((path) => existsSync(path));
}

/** Starts redis-server on a free loopback port with its data in a temp dir, using the harness's process helpers. */
export async function startLocalRedis(): Promise<LocalRedis> {
  const binary = findRedisServerBinary();
  if (!binary) throw new Error('redis-server is not installed (run `bash bench/install-bench-deps.sh`)');
  const baseDir = mkdtempSync(join(tmpdir(), 'tps-kanban-bench-redis-'));
  const port = await freePort();
  const spec: ProcessSpec = {
    command: binary,
    args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', baseDir, '--daemonize', 'no', ...REDIS_PERSISTENCE_ARGS],
    env: {},
    cwd: baseDir,
    logFile: join(baseDir, 'redis-server.log'),
  };
  const pid = launch(spec);
  try {
    await waitFor(() => redisAnswersPing(port), { timeoutMs: REDIS_READY_TIMEOUT_MS, intervalMs: 100, description: `redis-server on 127.0.0.1:${port} (log: ${spec.logFile})` });
  } catch (error) {
    await terminate(pid);
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    pid,
    stop: async () => {
      await terminate(pid);
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

function redisAnswersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}
