import type { DeadLetter, DeadLetterFilter, DeadLetterPage } from '../../libs/kanban/src';

/** Pages listed per call while collecting every dead letter: the most one call may return. */
const PAGE = 1_000;

/** Anything that lists dead letters page by page: a KanbanQueue or a transport. */
export interface DeadLetterLister {
  listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage>;
}

/** Every dead letter matching `filter`, oldest first, following the cursor to the end. */
export async function allDeadLetters(source: DeadLetterLister, filter: Omit<DeadLetterFilter, 'limit' | 'cursor'> = {}): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let cursor: string | undefined;
  do {
    const page = await source.listDeadLetters({ ...filter, limit: PAGE, cursor });
    letters.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return letters;
}
