import { KanbanError } from './kanban.error';

/** Opening one more domain would pass `maxDomains`; nothing was declared on a broker for it. */
export class DomainLimitError extends KanbanError {
  constructor(
    readonly domain: string,
    readonly maxDomains: number,
  ) {
    super(`Domain ${domain} is new and kanban already serves its limit of ${maxDomains} domains; use an existing domain or raise maxDomains (KANBAN_MAX_DOMAINS)`, { domain, maxDomains });
  }
}
