import { runCli } from './cli';

// runCli answers every error with an exit code: it never rejects.
void runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then((code) => {
  process.exitCode = code;
});
