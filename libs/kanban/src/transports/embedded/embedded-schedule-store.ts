import type { Database } from 'better-sqlite3';
import type { ScheduleDefinition, ScheduleStore } from '../../scheduler/schedule-coordination.interface';

export const EMBEDDED_SCHEDULES_TABLE = 'kanban_schedules';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${EMBEDDED_SCHEDULES_TABLE} (
  job_id     TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  last_tick  INTEGER
) WITHOUT ROWID;
`;

/** Runs a statement on the store's connection, in its write order. */
export type EmbeddedRun = <T>(statement: (db: Database) => T) => Promise<T>;

/** Schedules in a table of the SQLite file, so they survive a restart of the process. */
export class EmbeddedScheduleStore implements ScheduleStore {
  private created = false;

  constructor(private readonly run: EmbeddedRun) {}

  save(definition: ScheduleDefinition): Promise<void> {
    return this.exec((db) => {
      db.prepare(`INSERT INTO ${EMBEDDED_SCHEDULES_TABLE} (job_id, definition) VALUES (?, ?) ON CONFLICT (job_id) DO UPDATE SET definition = excluded.definition`).run(
        definition.jobId,
        JSON.stringify(definition),
      );
    });
  }

  remove(jobId: string): Promise<void> {
    return this.exec((db) => {
      db.prepare(`DELETE FROM ${EMBEDDED_SCHEDULES_TABLE} WHERE job_id = ?`).run(jobId);
    });
  }

  list(): Promise<ScheduleDefinition[]> {
    return this.exec((db) =>
      (db.prepare(`SELECT definition FROM ${EMBEDDED_SCHEDULES_TABLE} ORDER BY job_id`).all() as { definition: string }[]).map((row) => JSON.parse(row.definition) as ScheduleDefinition),
    );
  }

  recordTick(jobId: string, tickTime: number): Promise<void> {
    return this.exec((db) => {
      db.prepare(`UPDATE ${EMBEDDED_SCHEDULES_TABLE} SET last_tick = ? WHERE job_id = ?`).run(tickTime, jobId);
    });
  }

  lastTick(jobId: string): Promise<number | undefined> {
    return this.exec((db) => {
      const row = db.prepare(`SELECT last_tick FROM ${EMBEDDED_SCHEDULES_TABLE} WHERE job_id = ?`).get(jobId) as { last_tick: number | null } | undefined;
      return row?.last_tick ?? undefined;
    });
  }

  private exec<T>(statement: (db: Database) => T): Promise<T> {
    return this.run((db) => {
      if (!this.created) {
        db.exec(SCHEMA);
        this.created = true;
      }
      return statement(db);
    });
  }
}
