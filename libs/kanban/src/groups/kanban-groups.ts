import { Inject, Injectable, Logger } from '@nestjs/common';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT } from '../kanban.constants';
import { GROUP_PAGE_DEFAULT_LIMIT, GROUP_PAGE_MAX_LIMIT, type GroupFilter, type GroupLimits, type GroupPage, type GroupState } from '../interfaces/group.interface';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { KanbanTransport } from '../transport/kanban-transport';
import { validateGroupLimitsRequest, validateGroupListing } from './validate-group-request';
import { groupLimitsInForce } from './group-limits-in-force';

/**
 * Fair share at run time: a group's own limits and the listing of a domain's groups. Validates
 * before the transport sees anything; the transport keeps the limits where every instance reads them.
 */
@Injectable()
export class KanbanGroups {
  private readonly logger = new Logger(KanbanGroups.name);

  constructor(
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  /**
   * Sets the limits of `group` in `domain` (every priority), or with `{}` clears them back to the
   * options' defaults, for the whole fleet.
   * @returns the group's state after the change.
   * @throws KanbanValidationError naming every bad field, GroupsUnsupportedError on a transport without group state.
   */
  async setGroupLimits(domain: string, group: string, limits: GroupLimits): Promise<GroupState> {
    const stored = validateGroupLimitsRequest(domain, group, limits);
    await this.transport.setGroupLimits(domain, group, stored);
    this.logger.log(`Group ${domain}/${group} limits ${stored === null ? 'cleared' : `set to ${JSON.stringify(stored)}`}`);
    return this.groupState(domain, group);
  }

  /**
   * One page of the groups of `domain` that hold items or limits of their own, by name.
   * @throws KanbanValidationError naming every bad field, GroupsUnsupportedError on a transport without group state.
   */
  async listGroups(domain: string, filter: GroupFilter = {}): Promise<GroupPage> {
    validateGroupListing(domain, filter);
    return this.transport.listGroups(domain, { limit: filter.limit ?? GROUP_PAGE_DEFAULT_LIMIT, ...(filter.cursor !== undefined ? { cursor: filter.cursor } : {}) });
  }

  /**
   * One group's state, read from the listing (pages are ordered by name, so the search stops at the
   * first name past it); a group the transport does not list holds nothing and has the defaults.
   */
  private async groupState(domain: string, group: string): Promise<GroupState> {
    let cursor: string | undefined;
    do {
      const page = await this.transport.listGroups(domain, { limit: GROUP_PAGE_MAX_LIMIT, ...(cursor !== undefined ? { cursor } : {}) });
      const found = page.items.find((state) => state.group === group);
      if (found) return found;
      if (page.items.some((state) => state.group > group)) break;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { group, ready: 0, inFlight: 0, limits: groupLimitsInForce(this.options.groups, domain) };
  }
}
