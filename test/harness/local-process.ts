import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { waitFor } from './wait-for';

/** Everything needed to (re)launch a broker process the same way: recorded in the state file. */
export interface ProcessSpec {
  command: string;
  args: string[];
  /** Variables added to the parent's environment. */
  env: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

const EXIT_WAIT_MS = 30_000;

/**
 * Starts `spec` in its own process group, detached from the caller so it outlives the Jest worker
 * that launched it (globalTeardown or a later restart ends it by pid).
 */
export function launch(spec: ProcessSpec): number {
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`Could not start ${spec.command}; see ${spec.logFile}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Sends `signal` to the process group led by `pid` (the broker and the helpers it forked). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function waitForExit(pid: number, timeoutMs = EXIT_WAIT_MS): Promise<void> {
  await waitFor(() => !isAlive(pid), { timeoutMs, intervalMs: 50, description: `process ${pid} to exit` });
}

/** kill -9 of the whole group, then waits until the process is gone. */
export async function kill9(pid: number): Promise<void> {
  signalGroup(pid, 'SIGKILL');
  await waitForExit(pid);
}

/** SIGTERM to the leader only (it shuts down cleanly), SIGKILL to the group if it outstays `timeoutMs`. */
export async function terminate(pid: number, timeoutMs = EXIT_WAIT_MS): Promise<void> {
  if (!isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    return;
  }
  signalGroup(pid, 'SIGCONT');
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  try {
    await waitForExit(pid, timeoutMs);
  } catch {
    await kill9(pid);
  }
  signalGroup(pid, 'SIGKILL');
}

/** The command line of a running process, to check a recorded pid was not reused by something else. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
