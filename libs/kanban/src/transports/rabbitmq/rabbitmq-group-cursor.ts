import { KanbanValidationError } from '../../errors';

/** The opaque cursor of a group listing: the last group name of the page. */
export function encodeGroupCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** @throws KanbanValidationError for a cursor no group listing handed out. */
export function decodeGroupCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // Reported below as an invalid cursor.
  }
  throw new KanbanValidationError([{ field: 'cursor', message: 'is not a cursor a group listing handed out' }]);
}
