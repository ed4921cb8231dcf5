import { ExitCode } from '../exit-codes.constants';
import { CliError } from './cli.error';

/** No HTTP answer at all: nothing listens, the name does not resolve, or the answer took too long. */
export class ServerUnreachableError extends CliError {
  readonly exitCode = ExitCode.unavailable;

  constructor(url: string, reason: string) {
    super(`cannot reach ${url}: ${reason} (is the server running? --url or KANBAN_URL says where)`);
    this.name = 'ServerUnreachableError';
  }
}
