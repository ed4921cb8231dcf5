import type { Database, Transaction } from 'better-sqlite3';
import { BrokerUnavailableError, KanbanError } from '../../errors';

interface PendingWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Turns anything the store threw into a typed error; KanbanErrors (fencing, full queue) pass as they are. */
export function toKanbanError(error: unknown): KanbanError {
  if (error instanceof KanbanError) return error;
  return new BrokerUnavailableError('embedded', (error as Error)?.message ?? String(error), { cause: error });
}

/**
 * Group commit: every write queued in the same event-loop turn runs in one IMMEDIATE
 * transaction, so one WAL sync covers them all, and each promise settles only after that commit.
 * Each write runs in its own savepoint: one that throws (a full queue, a stale lease) is rolled
 * back and rejected alone while the others commit.
 */
export class EmbeddedWriteBatcher {
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly inSavepoint: Transaction<(write: () => unknown) => unknown>;
  private readonly commitBatch: Transaction<(batch: PendingWrite[]) => Outcome[]>;

  constructor(db: Database) {
    this.inSavepoint = db.transaction((write: () => unknown) => write());
    this.commitBatch = db.transaction((batch: PendingWrite[]) => batch.map((entry) => this.attempt(entry)));
  }

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued so far; `close` calls it so no queued write is dropped. */
  flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.flushScheduled = false;
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch.immediate(batch);
    } catch (error) {
      const failure = toKanbanError(error);
      for (const entry of batch) entry.reject(failure);
      return;
    }
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) batch[index].resolve(outcome.value);
      else batch[index].reject(outcome.error);
    });
  }

  private attempt(entry: PendingWrite): Outcome {
    try {
      return { ok: true, value: this.inSavepoint(entry.write) };
    } catch (error) {
      return { ok: false, error: toKanbanError(error) };
    }
  }
}
