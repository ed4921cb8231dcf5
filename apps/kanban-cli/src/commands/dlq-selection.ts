import { pathSegment, type KanbanApiClient } from '../http';
import type { CommandInput } from './command-input';
import type { OptionSpec } from './command.interface';
import { allDeadLetters } from './dlq-views';

export const SELECTION_OPTIONS: Record<string, OptionSpec> = {
  all: { type: 'boolean', description: 'every dead letter matching --domain and --reason, as listed when the command starts' },
  domain: { type: 'string', value: '<domain>', description: 'with --all: only this domain' },
  reason: { type: 'string', value: '<reason>', description: 'with --all: only this reason' },
};

export interface Selection {
  ids: string[];
  /** Chosen by --all: a letter gone meanwhile was taken by another client, not mistyped. */
  all: boolean;
}

/**
 * The ids named on the command line, or with --all those listed once at the start: letters
 * dead-lettered meanwhile (a replayed item failing again) are not chased, so the run always ends.
 */
export async function selectDeadLetters(api: KanbanApiClient, input: CommandInput): Promise<Selection> {
  if (!input.flag('all')) {
    if (input.positionals.length === 0) throw input.usage('name the dead letters by id, or give --all');
    if (input.string('domain') !== undefined || input.string('reason') !== undefined) throw input.usage('--domain and --reason select with --all');
    const ids = [...new Set(input.positionals)];
    for (const id of ids) pathSegment(id, 'dead letter id', input.command);
    return { ids, all: false };
  }
  if (input.positionals.length > 0) throw input.usage('give ids or --all, not both');
  const letters = await allDeadLetters(api, { domain: input.string('domain'), reason: input.string('reason') });
  return { ids: letters.map((letter) => letter.id), all: true };
}
