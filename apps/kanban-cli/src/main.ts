import { runCli } from './cli';
import { ExitCode } from './exit-codes.constants';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kanban: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    // A failure the CLI did not foresee (a bug) is reported like a server error.
    process.exitCode = ExitCode.serverError;
  },
);
