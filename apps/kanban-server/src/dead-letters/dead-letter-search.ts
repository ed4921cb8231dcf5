import { DEAD_LETTER_DEFAULT_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterPage, type KanbanQueue } from '@tps/kanban';

/** Most dead letters one search request reads from the brokers; the cursor goes on from there. */
export const DEAD_LETTER_SEARCH_SCAN_LIMIT = 2_000;
/** Most broker listings one search request makes, however sparse the matches. */
export const DEAD_LETTER_SEARCH_MAX_ROUNDS = 20;

export interface DeadLetterSearchPage extends DeadLetterPage {
  /** Dead letters read to answer this page; `nextCursor` is present when the scan stopped before the end. */
  scanned: number;
}

function matches(letter: DeadLetter, needle: string): boolean {
  const haystack = [letter.id, letter.error ?? '', letter.item ? JSON.stringify(letter.item.payload) : ''];
  return haystack.some((text) => text.toLowerCase().includes(needle));
}

/**
 * Dead letters whose id, error or payload contains `text` (any case), in listing order. The scan is
 * bounded per request; each listing asks for no more letters than can still fit the page, so the
 * library's cursor after the last one read is exactly where the next request starts.
 */
export async function searchDeadLetters(queue: KanbanQueue, filter: DeadLetterFilter, text: string): Promise<DeadLetterSearchPage> {
  const limit = filter.limit ?? DEAD_LETTER_DEFAULT_LIMIT;
  const needle = text.toLowerCase();
  const items: DeadLetter[] = [];
  let cursor = filter.cursor;
  let scanned = 0;
  for (let round = 0; round < DEAD_LETTER_SEARCH_MAX_ROUNDS && items.length < limit && scanned < DEAD_LETTER_SEARCH_SCAN_LIMIT; round++) {
    const page = await queue.listDeadLetters({ ...filter, cursor, limit: Math.min(limit - items.length, DEAD_LETTER_SEARCH_SCAN_LIMIT - scanned) });
    scanned += page.items.length;
    items.push(...page.items.filter((letter) => matches(letter, needle)));
    if (page.nextCursor === undefined) return { items, scanned };
    cursor = page.nextCursor;
  }
  return { items, nextCursor: cursor, scanned };
}
