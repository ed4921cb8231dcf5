import { readFile } from 'node:fs/promises';
import type { CliIo } from '../output';
import type { CommandInput } from './command-input';
import type { OptionSpec } from './command.interface';

/** Deadline of an item (or a schedule's items) when the command line gives none: an hour, ample for work typed by hand. */
export const DEFAULT_DEADLINE_MS = 3_600_000;

export const PAYLOAD_OPTIONS: Record<string, OptionSpec> = {
  payload: { type: 'string', value: '<json>', description: 'the payload, a JSON value (default null)' },
  'payload-file': { type: 'string', value: '<path>', description: 'read the JSON payload from a file, or stdin with -' },
};

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The payload from --payload or --payload-file; null when neither is given. */
export async function readPayload(input: CommandInput, io: CliIo): Promise<unknown> {
  const file = input.string('payload-file');
  if (file === undefined) return input.json('payload') ?? null;
  if (input.string('payload') !== undefined) throw input.usage('give --payload or --payload-file, not both');
  let text: string;
  try {
    text = file === '-' ? await readStdin(io.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw input.usage(`cannot read --payload-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw input.usage(`--payload-file ${file} is not JSON (${(error as Error).message})`);
  }
}
