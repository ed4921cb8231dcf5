import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../../../..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const LINK_LIBRARY = join(REPO, 'apps', 'kanban-server', 'scripts', 'link-kanban-library.js');
const COPY_DASHBOARD = join(REPO, 'apps', 'kanban-server', 'scripts', 'copy-dashboard-assets.js');

/**
 * Compiles the server as `npm run build` does, into a private folder inside the repo (so Node finds
 * node_modules from there), and returns the path of its main.js. A private folder keeps parallel
 * runs and the developer's own dist/ apart.
 */
export function buildServer(): { main: string; remove: () => void } {
  const outDir = join(REPO, '.tmp', `kanban-server-e2e-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  execFileSync(process.execPath, [TSC, '-p', join(REPO, 'apps', 'kanban-server', 'tsconfig.app.json'), '--outDir', outDir], { cwd: REPO, stdio: 'pipe' });
  execFileSync(process.execPath, [LINK_LIBRARY, outDir], { cwd: REPO, stdio: 'pipe' });
  execFileSync(process.execPath, [COPY_DASHBOARD, outDir], { cwd: REPO, stdio: 'pipe' });
  return { main: join(outDir, 'apps', 'kanban-server', 'src', 'main.js'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the compiled server with exactly `env` (plus PATH), colours off so the log lines can be read. */
export function runServer(main: string, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [main], { cwd: REPO, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, output: () => output, exited };
}
