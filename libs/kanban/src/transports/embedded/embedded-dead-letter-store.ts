import type { Database, Statement } from 'better-sqlite3';
import { MalformedItemError, decodeItem } from '../../codec';
import type { DeadLetter, DeadLetterFilter, DeadLetterReason, Priority } from '../../interfaces';
import { EMBEDDED_DEAD_LETTERS_TABLE as DEAD_LETTERS } from './embedded-schema';
import type { EmbeddedItemRow } from './embedded-item-store';

/** Page size of `list` when the filter gives no limit. */
export const EMBEDDED_DEFAULT_DEAD_LETTER_LIMIT = 100;

interface DeadLetterRow {
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
         ORDER BY seq DESC LIMIT @limit`,
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

  /** Newest first. */
  list(filter: DeadLetterFilter): DeadLetter[] {
    const rows = this.statements.list.all({
      domain: filter.domain ?? null,
      reason: filter.reason ?? null,
      limit: filter.limit ?? EMBEDDED_DEFAULT_DEAD_LETTER_LIMIT,
    }) as DeadLetterRow[];
    return rows.map(toDeadLetter);
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
