import type { Database } from 'better-sqlite3';
import { TopologyConflictError } from '../../errors';

/** Schema version kept in `PRAGMA user_version`; a file written by a newer library is refused. */
export const EMBEDDED_SCHEMA_VERSION = 1;

/**
 * Items waiting or in flight, one row each; FIFO order is `seq`.
 *
 * A foreign writer (or a test standing in for one) adds an item with
 * `INSERT INTO kanban_items (priority, domain, body) VALUES (?, ?, ?)`; `body` is the encoded
 * item (see `encodeItem`), `id` defaults to a random one. Rows whose body does not decode are
 * delivered as malformed. The transport only notices such rows on its next pull.
 *
 * `boot`, `hold_until` and `delivered_at` are `performance.now()` values of the transport instance
 * named by `boot`; a hold written under any other boot counts as lapsed.
 */
export const EMBEDDED_ITEMS_TABLE = 'kanban_items';
/** Per-queue item counts kept by triggers, so publish checks maxQueueDepth without counting rows. */
export const EMBEDDED_QUEUES_TABLE = 'kanban_queues';
export const EMBEDDED_DEDUP_TABLE = 'kanban_dedup';
export const EMBEDDED_DEAD_LETTERS_TABLE = 'kanban_dead_letters';
/** Delivered, unsettled rows: few next to a backlog, so depth and the stall sweep read only these. */
export const EMBEDDED_LEASED_INDEX = 'kanban_items_leased';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${EMBEDDED_ITEMS_TABLE} (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE DEFAULT ('foreign-' || lower(hex(randomblob(12)))),
  priority     TEXT NOT NULL CHECK (priority IN ('high', 'normal', 'low')),
  domain       TEXT NOT NULL,
  body         BLOB NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  lease        TEXT,
  boot         TEXT,
  hold_until   REAL,
  delivered_at REAL
);
CREATE INDEX IF NOT EXISTS kanban_items_by_queue ON ${EMBEDDED_ITEMS_TABLE} (priority, domain);
CREATE INDEX IF NOT EXISTS kanban_items_held ON ${EMBEDDED_ITEMS_TABLE} (hold_until) WHERE hold_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${EMBEDDED_LEASED_INDEX} ON ${EMBEDDED_ITEMS_TABLE} (priority, domain) WHERE lease IS NOT NULL;

CREATE TABLE IF NOT EXISTS ${EMBEDDED_QUEUES_TABLE} (
  priority TEXT NOT NULL,
  domain   TEXT NOT NULL,
  items    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (priority, domain)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS kanban_items_counted_in AFTER INSERT ON ${EMBEDDED_ITEMS_TABLE} BEGIN
  INSERT INTO ${EMBEDDED_QUEUES_TABLE} (priority, domain, items) VALUES (NEW.priority, NEW.domain, 1)
    ON CONFLICT (priority, domain) DO UPDATE SET items = items + 1;
END;
CREATE TRIGGER IF NOT EXISTS kanban_items_counted_out AFTER DELETE ON ${EMBEDDED_ITEMS_TABLE} BEGIN
  UPDATE ${EMBEDDED_QUEUES_TABLE} SET items = items - 1 WHERE priority = OLD.priority AND domain = OLD.domain;
END;

CREATE TABLE IF NOT EXISTS ${EMBEDDED_DEDUP_TABLE} (
  domain          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  item_id         TEXT NOT NULL,
  published_at    INTEGER NOT NULL,
  PRIMARY KEY (domain, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kanban_dedup_by_age ON ${EMBEDDED_DEDUP_TABLE} (published_at);

CREATE TABLE IF NOT EXISTS ${EMBEDDED_DEAD_LETTERS_TABLE} (
  seq              INTEGER PRIMARY KEY,
  id               TEXT NOT NULL UNIQUE,
  priority         TEXT NOT NULL,
  domain           TEXT NOT NULL,
  body             BLOB NOT NULL,
  reason           TEXT NOT NULL,
  error            TEXT,
  attempts         INTEGER NOT NULL,
  dead_lettered_at INTEGER NOT NULL
);
-- (domain, seq) and (reason, seq) serve filtered pages in order; an unfiltered page walks the primary key.
DROP INDEX IF EXISTS kanban_dead_letters_by_domain;
DROP INDEX IF EXISTS kanban_dead_letters_by_reason;
CREATE INDEX IF NOT EXISTS kanban_dead_letters_by_domain_seq ON ${EMBEDDED_DEAD_LETTERS_TABLE} (domain, seq);
CREATE INDEX IF NOT EXISTS kanban_dead_letters_by_reason_seq ON ${EMBEDDED_DEAD_LETTERS_TABLE} (reason, seq);
`;

/**
 * Sets the durability pragmas and creates the tables on first use.
 * @throws TopologyConflictError when the file was written by a newer schema version.
 */
export function applyEmbeddedSchema(db: Database, path: string): void {
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit: a publish that resolved survives power loss, not only kill -9.
  db.pragma('synchronous = FULL');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > EMBEDDED_SCHEMA_VERSION) {
    throw new TopologyConflictError('embedded', path, `schema version ${version} is newer than the ${EMBEDDED_SCHEMA_VERSION} this library supports`);
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${EMBEDDED_SCHEMA_VERSION}`);
  }).immediate();
}
