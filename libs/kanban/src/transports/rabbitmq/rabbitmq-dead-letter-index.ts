import type { DeadLetterReason } from '../../interfaces';

/** What an instance keeps of one live dead letter: enough to filter and page; the bytes stay in the log. */
export interface IndexedLetter {
  /** Offset of the letter's record in the log. */
  offset: number;
  id: string;
  domain: string;
  reason: DeadLetterReason;
  removed: boolean;
  /** The replay that won the claim on this letter, if one did (see RabbitMqDeadLetterStore.claimReplay). */
  claim?: ReplayClaim;
}

export interface ReplayClaim {
  token: string;
  /** Id of the item the claiming replay publishes. */
  itemId: string;
  /** Epoch ms when the claim was made; it lapses RABBITMQ_REPLAY_CLAIM_MS later. */
  claimedAt: number;
}

/** Removed entries kept in the array before it is compacted (and at least as many as live ones). */
const COMPACT_AFTER_REMOVED = 1_024;

/**
 * The live dead letters of the log, in log order, as every instance builds it by reading the log
 * from its start: a letter record adds an entry (a second copy of a live id is ignored, so the first
 * copy keeps its place), a removal record removes the entry, a claim record marks it. All instances
 * read the same records in the same order, so they agree on what is live and who won a claim.
 */
export class RabbitMqDeadLetterIndex {
  /** Ascending offsets; removed entries stay until the next compaction. */
  private entries: IndexedLetter[] = [];
  private readonly live = new Map<string, IndexedLetter>();
  private removedCount = 0;

  get size(): number {
    return this.live.size;
  }

  get(id: string): IndexedLetter | undefined {
    return this.live.get(id);
  }

  addLetter(offset: number, id: string, domain: string, reason: DeadLetterReason): void {
    if (this.live.has(id)) return;
    const entry: IndexedLetter = { offset, id, domain, reason, removed: false };
    this.entries.push(entry);
    this.live.set(id, entry);
  }

  remove(id: string): void {
    const entry = this.live.get(id);
    if (!entry) return;
    entry.removed = true;
    this.live.delete(id);
    this.removedCount++;
    if (this.removedCount > COMPACT_AFTER_REMOVED && this.removedCount > this.live.size) {
      this.entries = this.entries.filter((candidate) => !candidate.removed);
      this.removedCount = 0;
    }
  }

  /** The first claim wins; a later one wins only once the standing claim has lapsed. */
  claim(id: string, claim: ReplayClaim, claimMs: number): void {
    const entry = this.live.get(id);
    if (!entry) return;
    if (!entry.claim || claim.claimedAt >= entry.claim.claimedAt + claimMs) entry.claim = claim;
  }

  /** Up to `limit` live entries after `afterOffset` that pass `matches`, in log order. */
  page(afterOffset: number, limit: number, matches: (entry: IndexedLetter) => boolean): IndexedLetter[] {
    const page: IndexedLetter[] = [];
    for (let i = this.firstAfter(afterOffset); i < this.entries.length && page.length < limit; i++) {
      const entry = this.entries[i];
      if (!entry.removed && matches(entry)) page.push(entry);
    }
    return page;
  }

  clear(): void {
    this.entries = [];
    this.live.clear();
    this.removedCount = 0;
  }

  private firstAfter(offset: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle].offset <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
