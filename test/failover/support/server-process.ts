import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Ledger } from '../../ledger/ledger';
import { waitFor } from '../../harness';
import { SERVER_LINES, type PublishCommand, type ServerConfig } from './server-protocol';

/** Compiles the library's TypeScript in the child the way Jest does (see test/embedded/fixtures). */
const REGISTER_SWC = join(__dirname, '..', '..', 'embedded', 'fixtures', 'register-swc.js');
const SERVER_FIXTURE = join(__dirname, '..', 'fixtures', 'failover-server.ts');
/** The child is killed regardless after this long, so a stuck child fails its test instead of hanging the run. */
const CHILD_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 30_000;
const PUBLISH_TIMEOUT_MS = 60_000;
/** A server that has not exited this long after SIGTERM is killed, and the test sees the SIGKILL. */
const SHUTDOWN_TIMEOUT_MS = 60_000;

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The kanban server (test/failover/fixtures/failover-server.ts) in a child process, feeding what it
 * reports into the ledger. Each instance is one process; a restart is a new instance.
 */
export class ServerProcess {
  /** Keys this process started, with the attempt, when (performance.now()) and whether it finished them. */
  readonly started = new Map<string, { attempt: number; at: number; finished: boolean }>();
  readonly exited: Promise<ServerExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly guard: NodeJS.Timeout;
  private readyLine = false;
  private closedLine = false;
  private publishedCommands = 0;
  private stderrText = '';

  constructor(
    config: ServerConfig,
    private readonly ledger: Ledger,
  ) {
    this.child = spawn(process.execPath, ['--require', REGISTER_SWC, SERVER_FIXTURE, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    this.guard = setTimeout(() => this.child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    void this.exited.then(() => clearTimeout(this.guard));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
  }

  /** The child's log lines. */
  get stderr(): string {
    return this.stderrText;
  }

  get closedCleanly(): boolean {
    return this.closedLine;
  }

  startedKeys(): string[] {
    return [...this.started.keys()];
  }

  /** Whether the handler started an item within the last `ms` and is still at it. */
  startedWithin(ms: number): boolean {
    const since = performance.now() - ms;
    return [...this.started.values()].some((run) => !run.finished && run.at >= since);
  }

  /** Keys started by this process and not finished (yet, or ever: it was killed). */
  unfinished(): string[] {
    return [...this.started].filter(([, run]) => !run.finished).map(([key]) => key);
  }

  async waitUntilReady(): Promise<void> {
    await waitFor(() => this.readyLine || this.child.exitCode !== null, { timeoutMs: START_TIMEOUT_MS, description: 'the server to start' });
    if (!this.readyLine) throw new Error(`server exited before it was ready: ${this.stderrText}`);
  }

  /** Sends a publish command and resolves when the server reported every publish of it. */
  async publish(command: PublishCommand): Promise<void> {
    const done = this.publishedCommands + 1;
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    await waitFor(() => this.publishedCommands >= done, { timeoutMs: PUBLISH_TIMEOUT_MS, description: `${command.count} publishes by the server` });
  }

  async kill9(): Promise<ServerExit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if the server is still running after SHUTDOWN_TIMEOUT_MS. */
  async terminate(): Promise<ServerExit> {
    this.child.kill('SIGTERM');
    const overdue = setTimeout(() => this.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
    const exit = await this.exited;
    clearTimeout(overdue);
    return exit;
  }

  private onLine(line: string): void {
    const [kind, key, value] = line.split(' ');
    switch (kind) {
      case SERVER_LINES.ready:
        this.readyLine = true;
        break;
      case SERVER_LINES.started:
        this.started.set(key, { attempt: Number(value), at: performance.now(), finished: false });
        break;
      case SERVER_LINES.processed: {
        this.ledger.process(key, Number(value));
        const run = this.started.get(key);
        if (run?.attempt === Number(value)) run.finished = true;
        break;
      }
      case SERVER_LINES.attempt:
        this.ledger.attempt(key);
        break;
      case SERVER_LINES.ack:
        this.ledger.acknowledge(key, value);
        break;
      case SERVER_LINES.reject:
        this.ledger.reject(key, value);
        break;
      case SERVER_LINES.published:
        this.publishedCommands++;
        break;
      case SERVER_LINES.closed:
        this.closedLine = true;
        break;
    }
  }
}
