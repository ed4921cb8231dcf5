import { spawnSync } from 'node:child_process';
import { findBinary } from '../../harness/find-binary';

/** Where Debian's `prometheus` package puts promtool; PATH is searched first. */
const PROMTOOL_BINARIES = ['promtool', '/usr/bin/promtool', '/usr/local/bin/promtool'];

/** Names the skip in the test title, so a run without promtool says why those checks did not run. */
export const PROMTOOL_MISSING = "SKIPPED: promtool is not installed (run `bash scripts/install-brokers.sh`, which installs Debian's prometheus package)";

export function findPromtool(): string | undefined {
  return findBinary(PROMTOOL_BINARIES);
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
