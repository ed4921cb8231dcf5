import type { Database } from 'better-sqlite3';
import { TopologyConflictError } from '../../errors';

/** Schema version kept in `PRAGMA user_version`; a file written by a newer library is refused. */
export const EMBEDDED_SCHEMA_VERSION = 2;
/** The version before groups: its files get the `grp` column and the group tables on open. */
const SCHEMA_VERSION_BEFORE_GROUPS = 1;

/**
 * Items waiting or in flight, one row each; FIFO order is `seq`.
 *
 * A foreign writer (or a test standing in for one) adds an item with
 * `INSERT INTO kanban_items (priority, domain, body) VALUES (?, ?, ?)`; `body` is the encoded
 * item (see `encodeItem`), `id` defaults to a random one, `grp` to '' (the default group; set it to
 * the item's group to give the row its fair share). Rows whose body does not decode are
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
/** The same rows by (domain, group): a group's in-flight count reads only its leased rows. */
export const EMBEDDED_LEASED_BY_GROUP_INDEX = 'kanban_items_leased_by_group';
/**
 * One row per (priority, domain, group) holding items, kept by triggers: `items` counts its rows,
 * `served` orders the round-robin (the group handed out from longest ago comes first).
 */
export const EMBEDDED_GROUPS_TABLE = 'kanban_groups';
/** Run-time limits set with setGroupLimits, per (domain, group). */
export const EMBEDDED_GROUP_LIMITS_TABLE = 'kanban_group_limits';
/** GCRA state of rate-limited groups: `tat` = wall-clock ms of the next conforming hand-out. */
export const EMBEDDED_GROUP_RATES_TABLE = 'kanban_group_rates';

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
  delivered_at REAL,
  grp          TEXT NOT NULL DEFAULT ''
);
-- A group's head item is its lowest seq: the rowid orders equal keys, so this serves ORDER BY seq.
CREATE INDEX IF NOT EXISTS kanban_items_by_group ON ${EMBEDDED_ITEMS_TABLE} (priority, domain, grp);
CREATE INDEX IF NOT EXISTS kanban_items_held ON ${EMBEDDED_ITEMS_TABLE} (hold_until) WHERE hold_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${EMBEDDED_LEASED_INDEX} ON ${EMBEDDED_ITEMS_TABLE} (priority, domain) WHERE lease IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${EMBEDDED_LEASED_BY_GROUP_INDEX} ON ${EMBEDDED_ITEMS_TABLE} (domain, grp) WHERE lease IS NOT NULL;

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

CREATE TABLE IF NOT EXISTS ${EMBEDDED_GROUPS_TABLE} (
  priority TEXT NOT NULL,
  domain   TEXT NOT NULL,
  grp      TEXT NOT NULL,
  items    INTEGER NOT NULL,
  served   INTEGER NOT NULL,
  PRIMARY KEY (priority, domain, grp)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kanban_groups_next ON ${EMBEDDED_GROUPS_TABLE} (priority, domain, served, grp);
CREATE INDEX IF NOT EXISTS kanban_groups_by_name ON ${EMBEDDED_GROUPS_TABLE} (domain, grp);

-- A new group joins the round at its end; an emptied one leaves it.
CREATE TRIGGER IF NOT EXISTS kanban_items_grouped_in AFTER INSERT ON ${EMBEDDED_ITEMS_TABLE} BEGIN
  INSERT INTO ${EMBEDDED_GROUPS_TABLE} (priority, domain, grp, items, served)
    VALUES (NEW.priority, NEW.domain, NEW.grp, 1,
            (SELECT COALESCE(MAX(served), 0) + 1 FROM ${EMBEDDED_GROUPS_TABLE} WHERE priority = NEW.priority AND domain = NEW.domain))
    ON CONFLICT (priority, domain, grp) DO UPDATE SET items = items + 1;
END;
CREATE TRIGGER IF NOT EXISTS kanban_items_grouped_out AFTER DELETE ON ${EMBEDDED_ITEMS_TABLE} BEGIN
  DELETE FROM ${EMBEDDED_GROUPS_TABLE} WHERE priority = OLD.priority AND domain = OLD.domain AND grp = OLD.grp AND items <= 1;
  UPDATE ${EMBEDDED_GROUPS_TABLE} SET items = items - 1 WHERE priority = OLD.priority AND domain = OLD.domain AND grp = OLD.grp;
END;

CREATE TABLE IF NOT EXISTS ${EMBEDDED_GROUP_LIMITS_TABLE} (
  domain          TEXT NOT NULL,
  grp             TEXT NOT NULL,
  max_in_flight   INTEGER,
  rate_per_second REAL,
  PRIMARY KEY (domain, grp)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ${EMBEDDED_GROUP_RATES_TABLE} (
  domain TEXT NOT NULL,
  grp    TEXT NOT NULL,
  tat    REAL NOT NULL,
  PRIMARY KEY (domain, grp)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kanban_group_rates_by_tat ON ${EMBEDDED_GROUP_RATES_TABLE} (tat);

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

/** A version-1 file's items table gains the group column before SCHEMA indexes it. */
const ADD_GROUP_COLUMN = `
ALTER TABLE ${EMBEDDED_ITEMS_TABLE} ADD COLUMN grp TEXT NOT NULL DEFAULT '';
DROP INDEX IF EXISTS kanban_items_by_queue;
`;
/** Its items all belong to the default group, which joins the round once SCHEMA created it. */
const COUNT_EXISTING_GROUPS = `
INSERT INTO ${EMBEDDED_GROUPS_TABLE} (priority, domain, grp, items, served)
  SELECT priority, domain, grp, COUNT(*), 1 FROM ${EMBEDDED_ITEMS_TABLE} GROUP BY priority, domain, grp;
`;

/**
 * Sets the durability pragmas, creates the tables on first use and brings a version-1 file to
 * this version in the same transaction (its items kept, in the default group).
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
  const migratesGroups = version === SCHEMA_VERSION_BEFORE_GROUPS;
  db.transaction(() => {
    if (migratesGroups) db.exec(ADD_GROUP_COLUMN);
    db.exec(SCHEMA);
    if (migratesGroups) db.exec(COUNT_EXISTING_GROUPS);
    db.pragma(`user_version = ${EMBEDDED_SCHEMA_VERSION}`);
  }).immediate();
}
