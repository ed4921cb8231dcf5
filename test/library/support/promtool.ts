import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's `prometheus` package puts promtool; PATH is searched first. */
const PROMTOOL_BINARIES = ['promtool', '/usr/bin/promtool', '/usr/local/bin/promtool'];

/** Names the skip in the test title, so a run without promtool says why those checks did not run. */
export const PROMTOOL_MISSING = "SKIPPED: promtool is not installed (run `bash scripts/install-brokers.sh`, which installs Debian's prometheus package)";

export function findPromtool(): string | undefined {
  for (const candidate of PROMTOOL_BINARIES) {
    if (candidate.includes('/')) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (dir && existsSync(join(dir, candidate))) return join(dir, candidate);
    }
  }
  return undefined;
}

export interface PromtoolResult {
  status: number | null;
  output: string;
}

/** Runs promtool with `args` (and `input` on stdin); bounded so a hung promtool fails the test instead of the run. */
export function runPromtool(binary: string, args: string[], options: { input?: string; cwd?: string } = {}): PromtoolResult {
  const result = spawnSync(binary, args, { input: options.input, cwd: options.cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
