import type { ExitCodeValue } from '../exit-codes.constants';

/** Base of every error the CLI reports: its message is printed, its exit code ends the process. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCodeValue;

  /** What `--json` prints under `error`. */
  toJSON(): Record<string, unknown> {
    return { message: this.message };
  }
}
