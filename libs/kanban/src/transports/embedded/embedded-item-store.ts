import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { MalformedItemError, decodeItem, encodeItem } from '../../codec';
import { QueueFullError } from '../../errors';
import type { LeaseRef, Priority, PublishReceipt, QueueDepth, QueueRef, TransportDelivery, WorkItem } from '../../interfaces';
import { PRIORITIES, SUBJECT_PREFIX } from '../../kanban.constants';
import type { TransportSettings } from '../../transport';
import { EMBEDDED_DEDUP_PRUNE_INTERVAL_MS, EMBEDDED_QUEUE_FULL_RETRY_AFTER_MS } from './embedded.constants';
import { EMBEDDED_DEDUP_TABLE, EMBEDDED_ITEMS_TABLE as ITEMS, EMBEDDED_LEASED_INDEX, EMBEDDED_QUEUES_TABLE } from './embedded-schema';

/** An item row as the dead-letter store needs it. */
export interface EmbeddedItemRow {
  seq: number;
  id: string;
  priority: Priority;
  domain: string;
  body: Buffer;
  attempts: number;
}

/** A row found by the stall sweep; `lapsed` = its lease lapsed on the last attempt (else: unsettled too long). */
export interface EmbeddedStalledRow extends EmbeddedItemRow {
  lapsed: 0 | 1;
}

// "Held" = leased or waiting out a retry delay, under this boot's monotonic clock. Anything held
// under another boot is free: the process whose clock it was measured on is gone.
const NOT_HELD = '(boot IS NULL OR boot <> @boot OR hold_until <= @now)';
const HELD = '(boot = @boot AND hold_until > @now)';
// A lease that lapsed on the last attempt is never handed out again: the stall sweep dead-letters it.
const EXHAUSTED = '(lease IS NOT NULL AND attempts >= @maxAttempts)';

/**
 * The items table: publish, lease and settle. Every method is synchronous and runs inside the
 * write batch's transaction, so a check and the write that depends on it cannot interleave.
 * Times: `now` is performance.now() for holds, Date.now() for the dedup window.
 */
export class EmbeddedItemStore {
  private readonly statements: Record<
    | 'dedupLookup'
    | 'dedupRemember'
    | 'dedupPrune'
    | 'queueCount'
    | 'insert'
    | 'ensureQueue'
    | 'available'
    | 'lease'
    | 'ack'
    | 'retry'
    | 'extendLease'
    | 'leased'
    | 'exists'
    | 'remove'
    | 'stalled'
    | 'depth'
    | 'nextHold',
    Statement
  >;
  private lastDedupPrune = 0;

  constructor(
    db: Database,
    private readonly boot: string,
    private readonly settings: TransportSettings,
  ) {
    this.statements = {
      dedupLookup: db.prepare(`SELECT item_id, published_at FROM ${EMBEDDED_DEDUP_TABLE} WHERE domain = @domain AND idempotency_key = @key`),
      dedupRemember: db.prepare(
        `INSERT INTO ${EMBEDDED_DEDUP_TABLE} (domain, idempotency_key, item_id, published_at) VALUES (@domain, @key, @id, @now)
         ON CONFLICT (domain, idempotency_key) DO UPDATE SET item_id = excluded.item_id, published_at = excluded.published_at`,
      ),
      dedupPrune: db.prepare(`DELETE FROM ${EMBEDDED_DEDUP_TABLE} WHERE published_at <= @before`),
      queueCount: db.prepare(`SELECT items FROM ${EMBEDDED_QUEUES_TABLE} WHERE priority = @priority AND domain = @domain`).pluck(),
      insert: db.prepare(`INSERT INTO ${ITEMS} (id, priority, domain, body) VALUES (@id, @priority, @domain, @body)`),
      ensureQueue: db.prepare(`INSERT OR IGNORE INTO ${EMBEDDED_QUEUES_TABLE} (priority, domain) VALUES (@priority, @domain)`),
      available: db.prepare(
        `SELECT seq, id, priority, domain, body, attempts FROM ${ITEMS}
         WHERE priority = @priority AND domain = @domain AND ${NOT_HELD} AND NOT ${EXHAUSTED}
         ORDER BY seq LIMIT @limit`,
      ),
      lease: db.prepare(`UPDATE ${ITEMS} SET attempts = attempts + 1, lease = @lease, boot = @boot, hold_until = @holdUntil, delivered_at = @now WHERE seq = @seq`),
      ack: db.prepare(`DELETE FROM ${ITEMS} WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`),
      retry: db.prepare(
        `UPDATE ${ITEMS} SET lease = NULL, delivered_at = NULL, boot = @boot, hold_until = @holdUntil
         WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`,
      ),
      extendLease: db.prepare(`UPDATE ${ITEMS} SET boot = @boot, hold_until = @holdUntil WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`),
      leased: db.prepare(`SELECT seq, id, priority, domain, body, attempts FROM ${ITEMS} WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`),
      exists: db.prepare(`SELECT 1 FROM ${ITEMS} WHERE id = @id AND domain = @domain`).pluck(),
      remove: db.prepare(`DELETE FROM ${ITEMS} WHERE seq = @seq`),
      stalled: db.prepare(
        `SELECT seq, id, priority, domain, body, attempts, NOT ${HELD} AS lapsed FROM ${ITEMS} INDEXED BY ${EMBEDDED_LEASED_INDEX}
         WHERE lease IS NOT NULL AND ((${HELD} AND delivered_at <= @deliveredBefore) OR (attempts >= @maxAttempts AND NOT ${HELD}))
         ORDER BY seq`,
      ),
      depth: db.prepare(
        `SELECT q.priority, q.domain, q.items, COALESCE(f.in_flight, 0) AS in_flight
         FROM ${EMBEDDED_QUEUES_TABLE} q LEFT JOIN (
           SELECT priority, domain, COUNT(*) AS in_flight FROM ${ITEMS} INDEXED BY ${EMBEDDED_LEASED_INDEX}
           WHERE lease IS NOT NULL AND (${HELD} OR attempts >= @maxAttempts)
           GROUP BY priority, domain
         ) f USING (priority, domain)
         ORDER BY q.domain, CASE q.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END`,
      ),
      nextHold: db
        .prepare(
          `SELECT MIN(hold_until) FROM ${ITEMS}
         WHERE hold_until > @now AND boot = @boot AND domain = @domain AND (@priority IS NULL OR priority = @priority)`,
        )
        .pluck(),
    };
  }

  /** @throws QueueFullError when the queue already holds maxQueueDepth items (ready and in flight). */
  publish(item: WorkItem, now: number): PublishReceipt {
    this.pruneDedup(now);
    const key = item.idempotencyKey;
    if (key !== undefined) {
      const seen = this.statements.dedupLookup.get({ domain: item.domain, key }) as { item_id: string; published_at: number } | undefined;
      if (seen && seen.published_at > now - this.settings.dedupWindowMs) return { id: seen.item_id, broker: 'embedded', duplicate: true };
    }
    const held = (this.statements.queueCount.get({ priority: item.priority, domain: item.domain }) as number | undefined) ?? 0;
    if (held >= this.settings.maxQueueDepth) {
      throw new QueueFullError(
        `${SUBJECT_PREFIX}.${item.priority}.${item.domain}`,
        EMBEDDED_QUEUE_FULL_RETRY_AFTER_MS,
        `it holds ${held} items, the limit (maxQueueDepth) is ${this.settings.maxQueueDepth}`,
      );
    }
    this.statements.insert.run({ id: item.id, priority: item.priority, domain: item.domain, body: encodeItem(item) });
    if (key !== undefined) this.statements.dedupRemember.run({ domain: item.domain, key, id: item.id, now });
    return { id: item.id, broker: 'embedded', duplicate: false };
  }

  ensureQueue(priority: Priority, domain: string): void {
    this.statements.ensureQueue.run({ priority, domain });
  }

  /** Leases up to `max` available items, FIFO per queue; a domain pull drains high, then normal, then low. */
  take(queue: QueueRef, max: number, leaseMs: number): TransportDelivery[] {
    const deliveries: TransportDelivery[] = [];
    for (const priority of queue.priority ? [queue.priority] : PRIORITIES) {
      const limit = max - deliveries.length;
      if (limit <= 0) break;
      const now = performance.now();
      const rows = this.statements.available.all({ ...this.clock(now), priority, domain: queue.domain, limit }) as EmbeddedItemRow[];
      for (const row of rows) deliveries.push(this.lease(row, leaseMs, now));
    }
    return deliveries;
  }

  /** Monotonic time at which the next hold on this queue ends (a lease lapses or a retry delay passes). */
  nextHoldEnd(queue: QueueRef): number | undefined {
    const at = this.statements.nextHold.get({ boot: this.boot, now: performance.now(), domain: queue.domain, priority: queue.priority ?? null });
    return typeof at === 'number' ? at : undefined;
  }

  /** False when `ref` does not hold the current lease, or its time is up (even if nobody took the item since). */
  ack(ref: LeaseRef): boolean {
    return this.statements.ack.run(this.fence(ref)).changes === 1;
  }

  /** False when `ref` does not hold the current lease. */
  retry(ref: LeaseRef, delayMs: number): boolean {
    return this.statements.retry.run({ ...this.fence(ref), boot: this.boot, holdUntil: performance.now() + delayMs }).changes === 1;
  }

  /** False when `ref` does not hold the current lease. */
  extendLease(ref: LeaseRef, leaseMs: number): boolean {
    return this.statements.extendLease.run({ ...this.fence(ref), boot: this.boot, holdUntil: performance.now() + leaseMs }).changes === 1;
  }

  /** The row `ref` holds the current lease on, if it does. */
  leased(ref: LeaseRef): EmbeddedItemRow | undefined {
    return this.statements.leased.get(this.fence(ref)) as EmbeddedItemRow | undefined;
  }

  exists(id: string, domain: string): boolean {
    return this.statements.exists.get({ id, domain }) !== undefined;
  }

  remove(row: EmbeddedItemRow): void {
    this.statements.remove.run({ seq: row.seq });
  }

  /** Deliveries held longer than `stalledAfterMs` since delivery, and leases that lapsed on the last attempt. */
  stalled(stalledAfterMs: number): EmbeddedStalledRow[] {
    const now = performance.now();
    return this.statements.stalled.all({ ...this.clock(now), deliveredBefore: now - stalledAfterMs }) as EmbeddedStalledRow[];
  }

  /** In flight = leased now, or lapsed on the last attempt and waiting for the stall sweep. */
  depth(): QueueDepth[] {
    const rows = this.statements.depth.all(this.clock(performance.now())) as Array<{ priority: Priority; domain: string; items: number; in_flight: number }>;
    return rows.map((row) => ({ broker: 'embedded', priority: row.priority, domain: row.domain, ready: row.items - row.in_flight, inFlight: row.in_flight }));
  }

  private lease(row: EmbeddedItemRow, leaseMs: number, now: number): TransportDelivery {
    const lease = randomUUID();
    const attempts = row.attempts + 1;
    this.statements.lease.run({ seq: row.seq, lease, boot: this.boot, holdUntil: now + leaseMs, now });
    const ref: LeaseRef = { id: row.id, domain: row.domain, priority: row.priority, lease };
    try {
      return { ...ref, item: decodeItem(row.body, attempts), leaseExpiresAt: Date.now() + leaseMs };
    } catch (error) {
      if (!(error instanceof MalformedItemError)) throw error;
      return { ...ref, malformed: true, raw: row.body.toString('base64'), error: error.message, attempts };
    }
  }

  private pruneDedup(now: number): void {
    if (now - this.lastDedupPrune < EMBEDDED_DEDUP_PRUNE_INTERVAL_MS) return;
    this.lastDedupPrune = now;
    this.statements.dedupPrune.run({ before: now - this.settings.dedupWindowMs });
  }

  private clock(now: number): { boot: string; now: number; maxAttempts: number } {
    return { boot: this.boot, now, maxAttempts: this.settings.maxAttempts };
  }

  /** A settle holds only with the current lease, still running on this boot's clock. */
  private fence(ref: LeaseRef): { id: string; domain: string; lease: string; boot: string; now: number } {
    return { id: ref.id, domain: ref.domain, lease: ref.lease, boot: this.boot, now: performance.now() };
  }
}
