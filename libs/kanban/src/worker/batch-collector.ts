import type { Delivery } from '../interfaces/delivery.interface';

/** One pull of at most `max` items, waiting at most `waitMs` for a first one. */
export type BatchPull = (max: number, waitMs: number) => Promise<Delivery[]>;

/**
 * Fills a batch: a first pull (waiting `firstWaitMs` on an empty queue), then, once it holds at
 * least one item, more pulls for the rest until it holds `max` or `waitMs` have passed since the
 * first item came. Stops early when `keepGoing` turns false (the worker stops): what it holds is
 * returned, never dropped.
 */
export async function collectBatch(pull: BatchPull, max: number, waitMs: number, firstWaitMs: number, keepGoing: () => boolean): Promise<Delivery[]> {
  const batch = await pull(max, firstWaitMs);
  if (batch.length === 0) return batch;
  const until = performance.now() + waitMs;
  while (batch.length < max && keepGoing()) {
    const left = Math.ceil(until - performance.now());
    if (left <= 0) break;
    batch.push(...(await pull(max - batch.length, left)));
  }
  return batch;
}
