import { ExitCode } from '../exit-codes.constants';
import { CliError } from './cli.error';

/** A 2xx answer that is not the JSON the route documents: a proxy's page, or not a kanban server. */
export class UnreadableAnswerError extends CliError {
  readonly exitCode = ExitCode.serverError;

  constructor(route: string, status: number) {
    super(`${route} answered ${status} with a body that is not kanban's JSON (is --url a kanban server?)`);
    this.name = 'UnreadableAnswerError';
  }
}
