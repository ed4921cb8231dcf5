import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../../harness';

/** Compiles the library's TypeScript in the child the way Jest does (see test/embedded/fixtures). */
const REGISTER_SWC = join(__dirname, '..', '..', 'embedded', 'fixtures', 'register-swc.js');
/** The child is killed regardless after this long, so a stuck child fails its test instead of hanging the run. */
const CHILD_TIMEOUT_MS = 180_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A fixture of test/chaos/fixtures in a child process: config as JSON in argv[2], commands on
 * stdin, one protocol line per event on stdout (split on spaces), logs on stderr. Every line seen
 * is kept, so tests wait for states (`waitForLine`) rather than for time.
 */
export class ChildApp {
  readonly lines: string[][] = [];
  /** performance.now() at which each line of `lines` arrived. */
  readonly arrivals: number[] = [];
  readonly exited: Promise<ChildExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly guard: NodeJS.Timeout;
  private stderrText = '';

  constructor(
    fixture: string,
    config: object,
    private readonly onLine: (fields: string[]) => void = () => undefined,
  ) {
    this.child = spawn(process.execPath, ['--require', REGISTER_SWC, join(__dirname, '..', 'fixtures', fixture), JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    this.guard = setTimeout(() => this.child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    void this.exited.then(() => clearTimeout(this.guard));
    this.child.stdin.on('error', () => undefined);
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderrText = (this.stderrText + chunk.toString()).slice(-20_000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const fields = line.split(' ');
      this.lines.push(fields);
      this.arrivals.push(performance.now());
      this.onLine(fields);
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 20 000 characters the child logged. */
  get stderr(): string {
    return this.stderrText;
  }

  count(kind: string): number {
    return this.lines.filter(([first]) => first === kind).length;
  }

  linesOf(kind: string): string[][] {
    return this.lines.filter(([first]) => first === kind);
  }

  /** Resolves once a line of `kind` arrived (or `count` of them); fails early if the child exits. */
  async waitForLine(kind: string, timeoutMs: number, count = 1): Promise<void> {
    await waitFor(() => this.count(kind) >= count || !this.running, {
      timeoutMs,
      intervalMs: 20,
      description: `${count} '${kind}' line(s) from ${this.child.spawnfile} (stderr: ${this.stderrText.slice(-2_000)})`,
    });
    if (this.count(kind) < count) throw new Error(`child exited before ${count} '${kind}' line(s): ${this.stderrText.slice(-4_000)}`);
  }

  /** Lines of `kind` that arrived in the `ms` before `at` (performance.now()). */
  countWithin(kind: string, at: number, ms: number): number {
    let count = 0;
    this.lines.forEach(([first], index) => {
      if (first === kind && this.arrivals[index] <= at && this.arrivals[index] >= at - ms) count++;
    });
    return count;
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async kill9(): Promise<ChildExit> {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (after SIGCONT), then SIGKILL if still running after SHUTDOWN_TIMEOUT_MS. */
  async terminate(): Promise<ChildExit> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const overdue = setTimeout(() => this.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
    const exit = await this.exited;
    clearTimeout(overdue);
    return exit;
  }
}
