import type Database from 'better-sqlite3';
import { loadOptionalDependency } from '../optional-dependency';

/**
 * The `better-sqlite3` constructor, an optional peer dependency, loaded when a store file is first
 * opened (the embedded transport, the failover outbox, their lock files).
 * @throws MissingDependencyError when better-sqlite3 is not installed.
 */
export function sqliteDriver(): typeof Database {
  return loadOptionalDependency<typeof Database>('better-sqlite3', 'The embedded SQLite store');
}
