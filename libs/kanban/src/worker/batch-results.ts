import { KanbanError } from '../errors';

/**
 * What a batch handler's resolved value says for each of its `count` items: an array of one
 * result per item is taken item by item; any other value (nothing, `true`, a `KanbanNack`) is
 * every item's result. An array of another length is an error for every item: which result is
 * whose cannot be known.
 */
export function batchResults(value: unknown, count: number): unknown[] {
  if (!Array.isArray(value)) return new Array<unknown>(count).fill(value);
  if (value.length !== count) {
    const error = new KanbanError(`batch handler returned ${value.length} results for ${count} items`);
    return new Array<unknown>(count).fill(error);
  }
  return value;
}
