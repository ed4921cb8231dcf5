import { ExitCode } from '../exit-codes.constants';
import { CliError } from './cli.error';

/** A command line the CLI cannot act on; nothing was sent to the server. */
export class UsageError extends CliError {
  readonly exitCode = ExitCode.usage;

  /** @param helpCommand the words whose `--help` explains the right usage, e.g. `dlq replay`; '' for `kanban --help`. */
  constructor(
    message: string,
    readonly helpCommand?: string,
  ) {
    super(helpCommand === undefined ? message : `${message} (see \`kanban ${helpCommand ? `${helpCommand} ` : ''}--help\`)`);
    this.name = 'UsageError';
  }
}
