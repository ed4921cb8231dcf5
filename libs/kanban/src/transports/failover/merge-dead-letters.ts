import type { DeadLetter } from '../../interfaces/dead-letter.interface';

/**
 * Merges per-broker lists that are each newest first into one, newest first, keeping each list's
 * own order (on equal times the earlier list, the primary's, goes first), cut at `limit`.
 */
export function mergeNewestFirst(lists: DeadLetter[][], limit: number): DeadLetter[] {
  const heads = lists.map(() => 0);
  const merged: DeadLetter[] = [];
  while (merged.length < limit) {
    let pick = -1;
    for (let i = 0; i < lists.length; i++) {
      const candidate = lists[i][heads[i]];
      if (candidate && (pick < 0 || candidate.deadLetteredAt > lists[pick][heads[pick]].deadLetteredAt)) pick = i;
    }
    if (pick < 0) break;
    merged.push(lists[pick][heads[pick]++]);
  }
  return merged;
}
