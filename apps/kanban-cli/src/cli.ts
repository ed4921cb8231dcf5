import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { COMMANDS, CommandInput, GLOBAL_OPTIONS, commandHelp, groupHelp, mainHelp, type Command } from './commands';
import { CliError, UsageError } from './errors';
import { ExitCode } from './exit-codes.constants';
import { KanbanApiClient, connectionSettings } from './http';
import { Output, type CliIo } from './output';

const HELP_FLAGS = new Set(['--help', '-h']);

function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

type Lookup = { command: Command; rest: string[] } | { help: string; exitCode: number };

/** The command named by the leading words: `kanban dlq replay …` is ['dlq', 'replay']. */
function lookup(argv: string[]): Lookup {
  const [first, second] = argv;
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first} before the command: kanban <command> [options]`, '');
  // Two words first: `kanban groups limits …` is its own command beside `kanban groups <domain>`.
  const pair = COMMANDS.find((c) => c.words.length === 2 && c.words[0] === first && c.words[1] === second);
  if (pair) return { command: pair, rest: argv.slice(2) };
  const single = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
  if (single) return { command: single, rest: argv.slice(1) };
  const group = COMMANDS.filter((c) => c.words.length === 2 && c.words[0] === first);
  if (group.length === 0) throw new UsageError(`unknown command "${first}"`, '');
  if (second !== undefined && HELP_FLAGS.has(second)) return { help: groupHelp(first, group), exitCode: ExitCode.ok };
  if (second === undefined || second.startsWith('-')) throw new UsageError(`"kanban ${first}" needs a command: ${group.map((c) => c.words[1]).join(', ')}`, first);
  throw new UsageError(`unknown command "${first} ${second}"`, first);
}

function parse(command: Command, rest: string[]): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  const options: ParseArgsConfig['options'] = Object.fromEntries(
    Object.entries({ ...GLOBAL_OPTIONS, ...command.options }).map(([name, { type, short, multiple }]) => [name, { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) }]),
  );
  try {
    return parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, command.words.join(' '));
  }
}

/**
 * Runs one command line and resolves to the exit code; every error is printed here, once, with the
 * token masked. An error that is no CliError is a bug in the CLI: reported, exit code 6.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let out = new Output(io, argv.includes('--json'));
  try {
    if (argv.length === 0) {
      out.note(mainHelp(COMMANDS));
      return ExitCode.usage;
    }
    if (HELP_FLAGS.has(argv[0])) {
      out.text(mainHelp(COMMANDS));
      return ExitCode.ok;
    }
    if (argv[0] === '--version') {
      out.text(version());
      return ExitCode.ok;
    }
    const found = lookup(argv);
    if ('help' in found) {
      out.text(found.help);
      return found.exitCode;
    }
    const { command, rest } = found;
    const { values, positionals } = parse(command, rest);
    if (values.help === true) {
      out.text(commandHelp(command));
      return ExitCode.ok;
    }
    const input = new CommandInput(command.words.join(' '), values, positionals);
    const settings = connectionSettings({ url: input.string('url'), timeoutMs: input.integer('timeout-ms', 1) }, io.env);
    out = new Output(io, values.json === true, settings.token);
    return (await command.run({ api: new KanbanApiClient(settings), out, input, io })) ?? ExitCode.ok;
  } catch (error) {
    if (!(error instanceof CliError)) {
      out.unexpected(error);
      return ExitCode.serverError;
    }
    out.error(error);
    return error.exitCode;
  }
}
