import { KanbanValidationError } from '../../errors';
import { GROUP_PAGE_DEFAULT_LIMIT, type GroupFilter, type GroupPage, type GroupState } from '../../interfaces/group.interface';
import { PRIORITIES } from '../../kanban.constants';
import { domainError } from '../../validation/validate-publish-request';
import { brokerCall, jsApiCode, JS_ERR } from './nats-errors';
import type { NatsGroupClients, NatsGroupLimits } from './nats-group-limits';
import type { NatsNames } from './nats-names';

/** The default group (items without one) in the listing: no group name is empty. */
export const NATS_DEFAULT_GROUP = '';

function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // Reported below as an invalid cursor.
  }
  throw new KanbanValidationError([{ field: 'cursor', message: 'is not a cursor a group listing handed out' }]);
}

/**
 * A domain's groups for listGroups: those with items in a work stream (slots taken: `inFlight`)
 * or a backlog (`ready`), over every priority, and those with run-time limits; items without a
 * group are listed as the group '' (all `inFlight`: admitted to the queue). Per priority it
 * reads the work stream's and the backlog's subject counts (one request each); the page is cut
 * after sorting by name, the cursor being the last name handed out.
 */
export class NatsGroupListing {
  constructor(
    private readonly clients: () => NatsGroupClients,
    private readonly names: NatsNames,
    private readonly limits: NatsGroupLimits,
  ) {}

  /** @throws KanbanValidationError for a bad domain, limit or cursor; BrokerUnavailableError */
  async list(domain: string, filter: GroupFilter): Promise<GroupPage> {
    const limit = filter.limit ?? GROUP_PAGE_DEFAULT_LIMIT;
    const errors = [
      { field: 'domain', message: domainError(domain) },
      { field: 'limit', message: Number.isInteger(limit) && limit >= 1 ? undefined : 'must be an integer >= 1' },
    ].filter((error): error is { field: string; message: string } => error.message !== undefined);
    if (errors.length > 0) throw new KanbanValidationError(errors);
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const counts = new Map<string, { ready: number; inFlight: number }>();
    const countOf = (group: string): { ready: number; inFlight: number } => {
      let count = counts.get(group);
      if (!count) counts.set(group, (count = { ready: 0, inFlight: 0 }));
      return count;
    };
    await brokerCall(`listing the groups of ${domain}`, async () => {
      for (const priority of PRIORITIES) {
        const [work, backlog] = await Promise.all([
          this.subjects(this.names.workStream(priority, domain), '>'),
          this.subjects(this.names.backlogStream(priority, domain), this.names.backlogSubjects(priority, domain)),
        ]);
        for (const [subject, count] of work) {
          const group = subject === this.names.workSubject(priority, domain) ? NATS_DEFAULT_GROUP : this.names.parseGroupSlotSubject(subject)?.group;
          if (group !== undefined) countOf(group).inFlight += count;
        }
        for (const [subject, count] of backlog) {
          const group = this.names.parseBacklogGroup(subject);
          if (group) countOf(group).ready += count;
        }
      }
    });
    const overrides = await this.limits.overrides(domain);
    for (const group of overrides.keys()) countOf(group);
    const names = [...counts.keys()].filter((group) => after === undefined || group > after).sort();
    const page = names.slice(0, limit);
    // Items without a group have no window and no limits on NATS (they keep the queue's own subject).
    const items: GroupState[] = page.map((group) => ({
      group,
      ...(counts.get(group) as { ready: number; inFlight: number }),
      ...(group === NATS_DEFAULT_GROUP ? { limits: {} } : this.limits.resolve(domain, overrides.get(group))),
    }));
    return { items, ...(names.length > limit ? { nextCursor: encodeCursor(page[page.length - 1]) } : {}) };
  }

  private async subjects(stream: string, filter: string): Promise<[string, number][]> {
    try {
      const info = await this.clients().jsm.streams.info(stream, { subjects_filter: filter });
      return Object.entries(info.state.subjects ?? {});
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.streamNotFound) return [];
      throw error;
    }
  }
}
