import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FleetServerConfig } from '../../test/fleet/fixtures/fleet-server';
import { terminate } from '../../test/harness/local-process';

/** apps/kanban-server as main.ts builds it, on a free loopback port (the fleet tests' launcher). */
const SERVER_ENTRY = join(__dirname, '..', '..', 'test', 'fleet', 'fixtures', 'fleet-server.ts');
const REGISTER = join(__dirname, '..', 'register.js');
/** Three servers compile the library in memory at once on a shared 2-CPU machine: start-up is slow. */
const START_TIMEOUT_MS = 90_000;
/** Stderr kept for the error message of a server that fails to start. */
const STDERR_TAIL_CHARS = 4_000;

/** One kanban server process of the bench, reached over HTTP. */
export interface KanbanServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a kanban server in its own Node process (the bench's TypeScript hook, so it runs this
 * checkout's sources) and resolves once it listens.
 * @throws Error with the server's last log lines when it exits or is not listening in time.
 */
export async function startKanbanServer(config: FleetServerConfig): Promise<KanbanServerProcess> {
  const child = spawn(process.execPath, ['--require', REGISTER, SERVER_ENTRY, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS)));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await terminate(child.pid as number);
    await exited;
  };
  try {
    const port = await listeningPort(child, () => stderr);
    return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listeningPort(child: ChildProcessWithoutNullStreams, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`not listening after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout });
    const fail = (why: string) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`kanban server ${why}: ${stderr()}`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${code ?? signal}) before listening`);
    child.once('exit', onExit);
    lines.on('line', (line) => {
      const [kind, port] = line.split(' ');
      if (kind !== 'listening') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(Number(port));
    });
  });
}
