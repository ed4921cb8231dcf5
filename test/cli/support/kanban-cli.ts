import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../../..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const CLI_DIR = join(REPO, 'apps', 'kanban-cli');
const CLI_MAIN = join(CLI_DIR, 'dist', 'main.js');
/** The file `npx kanban` runs: the bin of apps/kanban-cli/package.json. */
export const KANBAN_BIN = join(CLI_DIR, 'bin', 'kanban.js');
/** Generous: a run is one or a few HTTP calls, but the machine is shared. */
const RUN_TIMEOUT_MS = 30_000;

/** The newest modification time among the CLI's sources and build settings. */
function newestSource(): number {
  const sources = readdirSync(join(CLI_DIR, 'src'), { recursive: true, encoding: 'utf8' }).map((file) => join(CLI_DIR, 'src', file));
  return Math.max(...[...sources, join(CLI_DIR, 'tsconfig.app.json'), join(REPO, 'tsconfig.json')].map((file) => statSync(file).mtimeMs));
}

/**
 * Compiles the CLI as `npm ci` does (the root `prepare` script) unless dist/ is newer than every
 * source, so the bin runs the sources under test and the spec files do not each pay for a build.
 */
export function buildCli(): void {
  if (existsSync(CLI_MAIN) && statSync(CLI_MAIN).mtimeMs >= newestSource()) return;
  execFileSync(process.execPath, [TSC, '-p', join(CLI_DIR, 'tsconfig.app.json')], { cwd: REPO, stdio: 'pipe' });
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kanban …args` as a child process with exactly `env` (plus PATH): a token or URL in the
 * developer's own environment never leaks into a test.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(process.execPath, [KANBAN_BIN, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout so far. */
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `kanban …args` and leaves it running (a `top` to interrupt), with exactly `env` (plus PATH). */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [KANBAN_BIN, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, stdout: () => stdout, exited };
}

/** The CLI's documented exit codes (apps/kanban-cli/README.md), restated here so a change to them fails a test. */
export const EXIT = { ok: 0, usage: 1, notFound: 2, auth: 3, unavailable: 4, rejected: 5 } as const;
