import type { BrokerName, Priority, WorkItem } from './work-item.interface';

export const DEAD_LETTER_REASONS = ['nack', 'deadline_exceeded', 'processing_timeout', 'stalled', 'max_attempts', 'malformed'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A dead-lettered item: the original fields plus why, when and how often it was tried. */
export interface DeadLetter {
  /** The original item's id (for a malformed message, an id the library gave it). */
  id: string;
  priority: Priority;
  domain: string;
  /** The original item; absent only for a malformed message, whose bytes are in `raw`. */
  item?: WorkItem;
  /** Base64 of the undecodable bytes of a malformed message. */
  raw?: string;
  reason: DeadLetterReason;
  /** The caller's reason for `nack`, the last error for `max_attempts`, the decode error for `malformed`. */
  error?: string;
  attempts: number;
  /** Epoch ms. */
  deadLetteredAt: number;
  broker: BrokerName;
}

/** Dead letters one list call returns when the filter gives no limit. */
export const DEAD_LETTER_DEFAULT_LIMIT = 100;
/** Most dead letters one list call returns. */
export const DEAD_LETTER_MAX_LIMIT = 1_000;

export interface DeadLetterFilter {
  domain?: string;
  reason?: DeadLetterReason;
  /** @default 100 (DEAD_LETTER_DEFAULT_LIMIT), at most 1,000 */
  limit?: number;
  /** `nextCursor` of the previous page; absent for the first page. Opaque: only pass it back. */
  cursor?: string;
}

/**
 * One page of dead letters, oldest first (the order they were stored in). Paging with `nextCursor`
 * never repeats a letter and never skips one that existed for the whole listing; letters stored
 * or removed meanwhile may or may not show.
 */
export interface DeadLetterPage {
  items: DeadLetter[];
  /** Present when more letters may follow; pass it as `cursor` for the next page. */
  nextCursor?: string;
}
