import type { Command, OptionSpec } from './command.interface';
import { GLOBAL_OPTIONS } from './global-options';

const ENVIRONMENT = ['Environment:', '  KANBAN_URL        the server, when --url is not given', '  KANBAN_API_TOKEN  sent as `Authorization: Bearer <token>`; never printed'].join('\n');

const EXIT_CODES = [
  'Exit codes:',
  '  0 ok   1 usage   2 not found or conflict (404, 409)   3 auth (401, 403)',
  '  4 unavailable: no answer, timeout, 503 draining or broker down, 429 (retry later)',
  '  5 rejected as invalid (400, 413)   6 server error (500, unreadable answer)',
].join('\n');

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => [`${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.description]);
  const width = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, description]) => `  ${left.padEnd(width)}  ${description}`);
}

export function commandHelp(command: Command): string {
  return [
    `Usage: kanban ${command.words.join(' ')}${command.usage ? ` ${command.usage}` : ''}`,
    '',
    command.summary,
    ...(command.description ? ['', command.description] : []),
    ...(Object.keys(command.options).length ? ['', 'Options:', ...optionLines(command.options)] : []),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ENVIRONMENT,
    '',
    EXIT_CODES,
  ].join('\n');
}

function commandList(commands: Command[]): string[] {
  const entries = commands.map((c) => [`kanban ${c.words.join(' ')}`, c.summary]);
  const width = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, summary]) => `  ${left.padEnd(width)}  ${summary}`);
}

/** `kanban dlq --help`: the commands of a group. */
export function groupHelp(group: string, commands: Command[]): string {
  return [`Usage: kanban ${group} <command> [options]`, '', 'Commands:', ...commandList(commands), '', `\`kanban ${group} <command> --help\` shows a command's options.`].join('\n');
}

export function mainHelp(commands: Command[]): string {
  return [
    'Usage: kanban <command> [options]',
    '',
    'The command line for a TPS Kanban server, over its HTTP API.',
    '',
    'Commands:',
    ...commandList(commands),
    '',
    "`kanban <command> --help` shows a command's options; `kanban --version` the version.",
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ENVIRONMENT,
    '',
    EXIT_CODES,
  ].join('\n');
}
