import { closeSync, openSync, readSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { sqliteDriver } from './sqlite-driver';
import { StoreLockedError } from '../../errors';

/**
 * `user_version` sits at byte 60 of an SQLite file's header (sqlite.org/fileformat2.html, 1.3):
 * the holder writes its pid there, and a refused process reads it raw, since the holder's lock
 * keeps every other SQLite connection out.
 */
const USER_VERSION_OFFSET = 60;
const SQLITE_MAGIC = 'SQLite format 3\0';
/** SQLite's private databases: in memory, or a temporary file; no other connection can open them. */
const PRIVATE_DATABASES: ReadonlySet<string> = new Set([':memory:', '']);

/**
 * One process per store file: an exclusive SQLite lock on `{file}.lock`, held from open to close.
 * The operating system drops it when the process ends in any way (kill -9 included), so it never
 * outlives its holder. The store file itself stays open to other connections (a foreign writer
 * inserting rows, an inspection), which a lock on it would shut out.
 */
export class StoreFileLock {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Undefined for a private database (`:memory:`), which needs no lock.
   * @throws StoreLockedError naming the file and the holder's pid when another connection (process) holds it.
   */
  static acquire(storePath: string): StoreFileLock | undefined {
    if (PRIVATE_DATABASES.has(storePath)) return undefined;
    const lockPath = `${storePath}.lock`;
    const db = new (sqliteDriver())(lockPath, { timeout: 0 });
    try {
      // EXCLUSIVE locking mode keeps the lock of the first write until the connection closes.
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.pragma(`user_version = ${process.pid}`);
      db.exec('COMMIT');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new StoreLockedError(storePath, holderPid(lockPath));
      throw error;
    }
    return new StoreFileLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}

function holderPid(lockPath: string): number | undefined {
  const header = Buffer.alloc(USER_VERSION_OFFSET + 4);
  let fd: number | undefined;
  try {
    fd = openSync(lockPath, 'r');
    const read = readSync(fd, header, 0, header.length, 0);
    if (read < header.length || header.toString('latin1', 0, SQLITE_MAGIC.length) !== SQLITE_MAGIC) return undefined;
    return header.readUInt32BE(USER_VERSION_OFFSET) || undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
