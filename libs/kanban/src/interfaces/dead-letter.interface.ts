import type { BrokerName, Priority, WorkItem } from './work-item.interface';

export const DEAD_LETTER_REASONS = [
  'nack',
  'deadline_exceeded',
  'processing_timeout',
  'stalled',
  'max_attempts',
  'malformed',
] as const;
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

export interface DeadLetterFilter {
  domain?: string;
  reason?: DeadLetterReason;
  /** @default 100 */
  limit?: number;
}
