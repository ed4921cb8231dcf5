import type { Database } from 'better-sqlite3';
import type { Priority } from '@tps/kanban';

/** Writes bytes into the embedded store the way a foreign writer would (see embedded-schema.ts). */
export function insertRawItem(db: Database, priority: Priority, domain: string, body: Buffer): void {
  db.prepare('INSERT INTO kanban_items (priority, domain, body) VALUES (?, ?, ?)').run(priority, domain, body);
}
