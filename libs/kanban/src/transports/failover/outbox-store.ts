import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { sqliteDriver } from '../embedded/sqlite-driver';
import { decodeItem, encodeItem } from '../../codec/item-codec';
import { BrokerUnavailableError, OutboxFullError, StoreLockedError } from '../../errors';
import type { QueueDepth } from '../../interfaces/queue-depth.interface';
import type { Priority, WorkItem } from '../../interfaces/work-item.interface';
import { EMBEDDED_BUSY_TIMEOUT_MS } from '../embedded/embedded.constants';
import { EmbeddedWriteBatcher } from '../embedded/embedded-write-batcher';
import { StoreFileLock } from '../embedded/store-file-lock';
import { FAILOVER_DEFAULT_OUTBOX_MAX_ITEMS, FAILOVER_OUTBOX_TABLE } from './failover.constants';

export interface OutboxStoreOptions {
  /** SQLite file; the embedded store's file (`embedded.path`) when built by the module. */
  path: string;
  /** @default FAILOVER_DEFAULT_OUTBOX_MAX_ITEMS (100 000) */
  maxItems?: number;
}

/** One item waiting in the outbox; `seq` is its place in publish order. */
export interface OutboxEntry {
  seq: number;
  item: WorkItem;
}

// AUTOINCREMENT: a seq is never reused, so order holds across an emptied table and restarts.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${FAILOVER_OUTBOX_TABLE} (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  id        TEXT NOT NULL,
  priority  TEXT NOT NULL,
  domain    TEXT NOT NULL,
  body      BLOB NOT NULL,
  queued_at INTEGER NOT NULL
);`;

/**
 * Publishes neither broker took, kept in order in a table of a local SQLite file (WAL, synced on
 * every commit, group commit as the embedded store does) until the forwarder hands them to a
 * broker. One process owns a file's outbox at a time: a second open is refused with
 * StoreLockedError naming the holder's pid (see StoreFileLock).
 */
export class OutboxStore {
  readonly path: string;
  readonly maxItems: number;
  private db?: Database.Database;
  private lock?: StoreFileLock;
  private batcher?: EmbeddedWriteBatcher;
  private insert?: Database.Statement;
  private rows = 0;
  private appending = 0;

  constructor(options: OutboxStoreOptions) {
    this.path = options.path;
    this.maxItems = options.maxItems ?? FAILOVER_DEFAULT_OUTBOX_MAX_ITEMS;
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /** Items waiting to be forwarded. */
  get size(): number {
    return this.rows;
  }

  /** Opens (creating) the file and its table; idempotent. @throws BrokerUnavailableError when the file cannot be opened; StoreLockedError when another process has it open. */
  open(): void {
    if (this.db) return;
    let lock: StoreFileLock | undefined;
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      lock = StoreFileLock.acquire(this.path);
      db = new (sqliteDriver())(this.path, { timeout: EMBEDDED_BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      // FULL syncs the WAL on every commit: an outbox publish that resolved survives power loss.
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      this.rows = (db.prepare(`SELECT count(*) AS n FROM ${FAILOVER_OUTBOX_TABLE}`).get() as { n: number }).n;
    } catch (error) {
      db?.close();
      lock?.release();
      if (error instanceof StoreLockedError) throw error;
      throw this.failure(error, 'opening the outbox');
    }
    this.lock = lock;
    this.db = db;
    this.batcher = new EmbeddedWriteBatcher(db);
    this.insert = db.prepare(`INSERT INTO ${FAILOVER_OUTBOX_TABLE} (id, priority, domain, body, queued_at) VALUES (?, ?, ?, ?, ?)`);
  }

  /**
   * Resolves once the item is committed to disk.
   * @throws OutboxFullError at maxItems; BrokerUnavailableError when the store is closed or the write fails.
   */
  async append(item: WorkItem): Promise<void> {
    const { batcher, insert } = this.opened();
    if (this.rows + this.appending >= this.maxItems) throw new OutboxFullError(this.path, this.maxItems);
    this.appending++;
    try {
      await batcher.run(() => insert.run(item.id, item.priority, item.domain, encodeItem(item), Date.now()));
      this.rows++;
    } catch (error) {
      throw this.failure(error, `storing item ${item.id}`);
    } finally {
      this.appending--;
    }
  }

  /** The `limit` oldest items, in publish order. @throws BrokerUnavailableError */
  oldest(limit: number): OutboxEntry[] {
    const { db } = this.opened();
    try {
      const rows = db.prepare(`SELECT seq, body FROM ${FAILOVER_OUTBOX_TABLE} ORDER BY seq LIMIT ?`).all(limit) as Array<{ seq: number; body: Buffer }>;
      return rows.map((row) => ({ seq: row.seq, item: decodeItem(row.body, 0) }));
    } catch (error) {
      throw this.failure(error, 'reading the outbox');
    }
  }

  /** Deletes forwarded items (only once a broker confirmed them). @throws BrokerUnavailableError */
  remove(seqs: number[]): void {
    if (seqs.length === 0) return;
    const { db } = this.opened();
    try {
      const remove = db.prepare(`DELETE FROM ${FAILOVER_OUTBOX_TABLE} WHERE seq = ?`);
      const removed = db.transaction((all: number[]) => all.reduce((count, seq) => count + remove.run(seq).changes, 0)).immediate(seqs);
      this.rows -= removed;
    } catch (error) {
      throw this.failure(error, 'removing forwarded items from the outbox');
    }
  }

  /** One row per (priority, domain) holding items, all `ready`. */
  depth(): QueueDepth[] {
    if (!this.db || this.rows === 0) return [];
    try {
      const rows = this.db.prepare(`SELECT priority, domain, count(*) AS n FROM ${FAILOVER_OUTBOX_TABLE} GROUP BY priority, domain ORDER BY domain, priority`).all() as Array<{
        priority: Priority;
        domain: string;
        n: number;
      }>;
      return rows.map((row) => ({ broker: 'outbox', priority: row.priority, domain: row.domain, ready: row.n, inFlight: 0 }));
    } catch (error) {
      throw this.failure(error, 'reading the outbox depth');
    }
  }

  /** Commits writes already queued, then closes the file; idempotent. */
  close(): void {
    const db = this.db;
    this.db = undefined;
    if (!db) return;
    try {
      this.batcher?.flush();
    } finally {
      this.batcher = undefined;
      this.insert = undefined;
      db.close();
      this.lock?.release();
      this.lock = undefined;
    }
  }

  private opened(): { db: Database.Database; batcher: EmbeddedWriteBatcher; insert: Database.Statement } {
    if (!this.db || !this.batcher || !this.insert) throw new BrokerUnavailableError('outbox', `the outbox at ${this.path} is not open`);
    return { db: this.db, batcher: this.batcher, insert: this.insert };
  }

  private failure(error: unknown, action: string): BrokerUnavailableError {
    if (error instanceof OutboxFullError) return error;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return new BrokerUnavailableError('outbox', `${action} at ${this.path} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}
