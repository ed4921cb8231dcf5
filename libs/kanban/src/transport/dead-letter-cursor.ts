import { KanbanValidationError } from '../errors';

/** Position before the first letter of a store: a listing without a cursor starts after it. */
export const DEAD_LETTER_START = -1;
const POSITION = /^\d{1,15}$/;

/**
 * A transport's cursor is the store position (row sequence, stream sequence or offset) of the last
 * letter a page returned, written as a decimal integer; the next page starts after it.
 */
export function cursorAt(position: number): string {
  return String(position);
}

/**
 * The position a listing starts after: DEAD_LETTER_START without a cursor.
 * @throws KanbanValidationError when `cursor` is not one a transport of this kind handed out.
 */
export function positionAfter(cursor: string | undefined): number {
  if (cursor === undefined) return DEAD_LETTER_START;
  if (typeof cursor !== 'string' || !POSITION.test(cursor)) throw invalidCursor();
  return Number(cursor);
}

export function invalidCursor(): KanbanValidationError {
  return new KanbanValidationError([{ field: 'cursor', message: 'must be a nextCursor returned by a previous listing' }]);
}
