import type { KanbanBackoff } from './kanban-handler.decorator';

/** The longest delay an exponential backoff reaches without a `maxDelayMs` (the longest retry delay the brokers hold). */
export const BACKOFF_MAX_DELAY_MS = 24 * 60 * 60 * 1_000;

/**
 * Delay before the retry that follows delivery number `attempts` (from 1). Exponential with
 * jitter j gives a delay in [d × (1 − j), d] where d = min(delayMs × 2^(attempts−1), maxDelayMs):
 * jitter only shortens, so the cap holds and retries of many items failing together spread out.
 * @param random a number in [0, 1), `Math.random` by default.
 */
export function backoffDelayMs(backoff: KanbanBackoff, attempts: number, random: () => number = Math.random): number {
  const attempt = Math.max(Math.floor(attempts), 1);
  if (Array.isArray(backoff)) return backoff[Math.min(attempt, backoff.length) - 1];
  if (backoff.type === 'fixed') return backoff.delayMs;
  const cap = backoff.maxDelayMs ?? BACKOFF_MAX_DELAY_MS;
  const delay = Math.min(backoff.delayMs * 2 ** Math.min(attempt - 1, 64), cap);
  return Math.ceil(delay * (1 - (backoff.jitter ?? 0) * random()));
}
