import type { ExitCodeValue } from '../exit-codes.constants';
import type { KanbanApiClient } from '../http';
import type { CliIo, Output } from '../output';
import type { CommandInput } from './command-input';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once (`--header a=1 --header b=2`). */
  multiple?: boolean;
  /** The value's placeholder in help, e.g. `<domain>`. */
  value?: string;
  description: string;
}

export interface CommandContext {
  api: KanbanApiClient;
  out: Output;
  input: CommandInput;
  io: CliIo;
}

/** One `kanban …` command: its words, its help, its options and what it does. */
export interface Command {
  /** What follows `kanban`, e.g. `['dlq', 'replay']`. */
  words: string[];
  /** One line for `kanban --help`. */
  summary: string;
  /** Arguments and options after the words in the usage line, e.g. `<id>... | --all [--domain <domain>]`. */
  usage: string;
  /** Paragraphs after the usage line. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Resolves to the exit code, ExitCode.ok when it returns nothing. */
  run(context: CommandContext): Promise<ExitCodeValue | void>;
}
