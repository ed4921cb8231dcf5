import { BrokerUnavailableError } from '../../errors';
import type { DeadLetterFilter, DeadLetterPage } from '../../interfaces/dead-letter.interface';
import { invalidCursor } from '../../transport/dead-letter-cursor';

/** Separates the broker's place in the chain from that broker's own cursor. */
const SEPARATOR = '.';

/** Lists one broker's page; undefined when the broker cannot answer now. */
export type ListOn = (broker: number, filter: DeadLetterFilter) => Promise<DeadLetterPage | undefined>;

/**
 * Lists the brokers one after the other (the primary's letters, then the fallback's), each oldest
 * first by its own cursor. The cursor is `{broker index}.{that broker's cursor}`, so a listing
 * moves on to the next broker once one has no more, and never returns to it. A broker that cannot
 * answer is passed over: its letters are missing from that listing.
 * @throws KanbanValidationError for a cursor this did not hand out; BrokerUnavailableError when no broker answered.
 */
export async function listChained(brokerCount: number, filter: DeadLetterFilter, limit: number, listOn: ListOn): Promise<DeadLetterPage> {
  const start = parseChainCursor(filter.cursor, brokerCount);
  const items: DeadLetterPage['items'] = [];
  let answered = false;
  for (let broker = start.broker, cursor = start.cursor; broker < brokerCount; broker++, cursor = undefined) {
    const page = await listOn(broker, { ...filter, limit: limit - items.length, cursor });
    if (!page) continue;
    answered = true;
    items.push(...page.items);
    if (page.nextCursor !== undefined) return { items, nextCursor: `${broker}${SEPARATOR}${page.nextCursor}` };
    if (items.length === limit) return broker + 1 < brokerCount ? { items, nextCursor: `${broker + 1}${SEPARATOR}` } : { items };
  }
  if (!answered && start.broker < brokerCount) throw new BrokerUnavailableError('failover', 'no broker answered the dead-letter listing');
  return { items };
}

function parseChainCursor(cursor: string | undefined, brokerCount: number): { broker: number; cursor?: string } {
  if (cursor === undefined) return { broker: 0 };
  const at = cursor.indexOf(SEPARATOR);
  const broker = at > 0 ? Number(cursor.slice(0, at)) : NaN;
  if (!Number.isInteger(broker) || broker < 0 || broker >= brokerCount) throw invalidCursor();
  const inner = cursor.slice(at + 1);
  return inner === '' ? { broker } : { broker, cursor: inner };
}
