import type { Database, Statement } from 'better-sqlite3';
import { MalformedItemError, decodeItem } from '../../codec';
import { DEAD_LETTER_DEFAULT_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterPage, type DeadLetterReason, type Priority } from '../../interfaces';
import { cursorAt, positionAfter } from '../../transport/dead-letter-cursor';
import { EMBEDDED_DEAD_LETTERS_TABLE as DEAD_LETTERS } from './embedded-schema';
import type { EmbeddedItemRow } from './embedded-item-store';

interface DeadLetterRow {
  seq?: number;
  id: string;
  priority: Priority;
  domain: string;
  body: Buffer;
  reason: DeadLetterReason;
  error: string | null;
  attempts: number;
  dead_lettered_at: number;
}

/** The dead-letter table. The stored body is the item's bytes as published; `malformed` ones come back as `raw`. */
export class EmbeddedDeadLetterStore {
  private readonly statements: Record<'insert' | 'get' | 'list' | 'remove', Statement>;

  constructor(db: Database) {
    this.statements = {
      // A foreign writer may reuse an id; the newer dead letter then replaces the older one.
      insert: db.prepare(
        `INSERT OR REPLACE INTO ${DEAD_LETTERS} (id, priority, domain, body, reason, error, attempts, dead_lettered_at)
         VALUES (@id, @priority, @domain, @body, @reason, @error, @attempts, @deadLetteredAt)`,
      ),
      get: db.prepare(`SELECT * FROM ${DEAD_LETTERS} WHERE id = @id`),
      list: db.prepare(
        `SELECT * FROM ${DEAD_LETTERS} WHERE (@domain IS NULL OR domain = @domain) AND (@reason IS NULL OR reason = @reason)
           AND seq > @after
         ORDER BY seq LIMIT @limit`,
      ),
      remove: db.prepare(`DELETE FROM ${DEAD_LETTERS} WHERE id = @id`),
    };
  }

  insert(item: EmbeddedItemRow, reason: DeadLetterReason, error: string | undefined, deadLetteredAt: number): DeadLetter {
    const row: DeadLetterRow = { ...item, reason, error: error ?? null, dead_lettered_at: deadLetteredAt };
    this.statements.insert.run({ ...row, deadLetteredAt });
    return toDeadLetter(row);
  }

  get(id: string): DeadLetter | undefined {
    const row = this.statements.get.get({ id }) as DeadLetterRow | undefined;
    return row && toDeadLetter(row);
  }

  /** Oldest first by row sequence; the cursor is the sequence of the page's last row. @throws KanbanValidationError */
  list(filter: DeadLetterFilter): DeadLetterPage {
    const limit = filter.limit ?? DEAD_LETTER_DEFAULT_LIMIT;
    const rows = this.statements.list.all({
      domain: filter.domain ?? null,
      reason: filter.reason ?? null,
      after: positionAfter(filter.cursor),
      limit,
    }) as Array<DeadLetterRow & { seq: number }>;
    const items = rows.map(toDeadLetter);
    return rows.length === limit ? { items, nextCursor: cursorAt(rows[rows.length - 1].seq) } : { items };
  }

  /** False when there was no such dead letter. */
  remove(id: string): boolean {
    return this.statements.remove.run({ id }).changes === 1;
  }
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  const deadLetter: DeadLetter = {
    id: row.id,
    priority: row.priority,
    domain: row.domain,
    reason: row.reason,
    attempts: row.attempts,
    deadLetteredAt: row.dead_lettered_at,
    broker: 'embedded',
    ...(row.error !== null ? { error: row.error } : {}),
  };
  try {
    return { ...deadLetter, item: decodeItem(row.body, row.attempts) };
  } catch (error) {
    if (!(error instanceof MalformedItemError)) throw error;
    return { ...deadLetter, raw: row.body.toString('base64') };
  }
}
