import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { MalformedItemError, decodeItem, encodeItem, withHeaders } from '../../codec';
import { QueueFullError } from '../../errors';
import type { GroupFilter, GroupPage, LeaseRef, Priority, PublishReceipt, QueueDepth, QueueRef, TransportDelivery, WorkItem } from '../../interfaces';
import { PRIORITIES, SUBJECT_PREFIX } from '../../kanban.constants';
import type { TransportSettings } from '../../transport';
import { EMBEDDED_DEDUP_PRUNE_INTERVAL_MS, EMBEDDED_GROUP_CANDIDATES_PER_READ, EMBEDDED_QUEUE_FULL_RETRY_AFTER_MS } from './embedded.constants';
import { EMBEDDED_DEFAULT_GROUP, type EmbeddedGroupStore, type GroupCandidate } from './embedded-group-store';
import { EXHAUSTED, HELD, NOT_HELD, type HoldClock } from './embedded-hold-conditions';
import { EMBEDDED_DEDUP_TABLE, EMBEDDED_ITEMS_TABLE as ITEMS, EMBEDDED_LEASED_INDEX, EMBEDDED_QUEUES_TABLE } from './embedded-schema';

/** An item row as the dead-letter store needs it. */
export interface EmbeddedItemRow {
  seq: number;
  id: string;
  priority: Priority;
  domain: string;
  grp: string;
  body: Buffer;
  attempts: number;
}

/** A row found by the stall sweep; `lapsed` = its lease lapsed on the last attempt (else: unsettled too long). */
export interface EmbeddedStalledRow extends EmbeddedItemRow {
  lapsed: 0 | 1;
}

/** What a pull took, and when a group it passed over for its rate has its next token (performance.now() time). */
export interface EmbeddedTake {
  deliveries: TransportDelivery[];
  nextTokenAt?: number;
}

/**
 * The items table: publish, lease and settle. Every method is synchronous and runs inside the
 * write batch's transaction, so a check and the write that depends on it cannot interleave.
 * Times: `now` is performance.now() for holds, Date.now() for the dedup window.
 */
export class EmbeddedItemStore {
  /** A group's head item: it passes over only the group's held rows, never its backlog. Named for the query-plan check. */
  static readonly HEAD_SQL = `SELECT seq, id, priority, domain, grp, body, attempts FROM ${ITEMS}
    WHERE priority = @priority AND domain = @domain AND grp = @grp AND ${NOT_HELD} AND NOT ${EXHAUSTED}
    ORDER BY seq LIMIT 1`;

  private readonly statements: Record<
    | 'dedupLookup'
    | 'dedupRemember'
    | 'dedupPrune'
    | 'queueCount'
    | 'insert'
    | 'ensureQueue'
    | 'head'
    | 'lease'
    | 'ack'
    | 'retry'
    | 'rewriteBody'
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
    private readonly groups: EmbeddedGroupStore,
  ) {
    this.statements = {
      dedupLookup: db.prepare(`SELECT item_id, published_at FROM ${EMBEDDED_DEDUP_TABLE} WHERE domain = @domain AND idempotency_key = @key`),
      dedupRemember: db.prepare(
        `INSERT INTO ${EMBEDDED_DEDUP_TABLE} (domain, idempotency_key, item_id, published_at) VALUES (@domain, @key, @id, @now)
         ON CONFLICT (domain, idempotency_key) DO UPDATE SET item_id = excluded.item_id, published_at = excluded.published_at`,
      ),
      dedupPrune: db.prepare(`DELETE FROM ${EMBEDDED_DEDUP_TABLE} WHERE published_at <= @before`),
      queueCount: db.prepare(`SELECT items FROM ${EMBEDDED_QUEUES_TABLE} WHERE priority = @priority AND domain = @domain`).pluck(),
      insert: db.prepare(`INSERT INTO ${ITEMS} (id, priority, domain, grp, body) VALUES (@id, @priority, @domain, @grp, @body)`),
      ensureQueue: db.prepare(`INSERT OR IGNORE INTO ${EMBEDDED_QUEUES_TABLE} (priority, domain) VALUES (@priority, @domain)`),
      head: db.prepare(EmbeddedItemStore.HEAD_SQL),
      lease: db.prepare(`UPDATE ${ITEMS} SET attempts = attempts + 1, lease = @lease, boot = @boot, hold_until = @holdUntil, delivered_at = @now WHERE seq = @seq`),
      ack: db.prepare(`DELETE FROM ${ITEMS} WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD} RETURNING grp`),
      retry: db.prepare(
        `UPDATE ${ITEMS} SET lease = NULL, delivered_at = NULL, boot = @boot, hold_until = @holdUntil
         WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`,
      ),
      rewriteBody: db.prepare(`UPDATE ${ITEMS} SET body = @body WHERE seq = @seq`),
      extendLease: db.prepare(`UPDATE ${ITEMS} SET boot = @boot, hold_until = @holdUntil WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`),
      leased: db.prepare(`SELECT seq, id, priority, domain, grp, body, attempts FROM ${ITEMS} WHERE id = @id AND domain = @domain AND lease = @lease AND ${HELD}`),
      exists: db.prepare(`SELECT 1 FROM ${ITEMS} WHERE id = @id AND domain = @domain`).pluck(),
      remove: db.prepare(`DELETE FROM ${ITEMS} WHERE seq = @seq`),
      stalled: db.prepare(
        `SELECT seq, id, priority, domain, grp, body, attempts, NOT ${HELD} AS lapsed FROM ${ITEMS} INDEXED BY ${EMBEDDED_LEASED_INDEX}
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
    this.statements.insert.run({ id: item.id, priority: item.priority, domain: item.domain, grp: item.group ?? EMBEDDED_DEFAULT_GROUP, body: encodeItem(item) });
    if (key !== undefined) this.statements.dedupRemember.run({ domain: item.domain, key, id: item.id, now });
    return { id: item.id, broker: 'embedded', duplicate: false };
  }

  ensureQueue(priority: Priority, domain: string): void {
    this.statements.ensureQueue.run({ priority, domain });
  }

  /**
   * Leases up to `max` available items; a domain pull drains high, then normal, then low. Within a
   * queue, round-robin over its groups: each hand-out takes the head item of the group served
   * longest ago that is under its maxInFlight and has a token of its rate, and moves that group
   * to the end of the round.
   */
  take(queue: QueueRef, max: number, leaseMs: number): EmbeddedTake {
    const deliveries: TransportDelivery[] = [];
    let nextTokenDueAt = Infinity;
    const now = performance.now();
    const wall = Date.now();
    const clock = this.clock(now);
    for (const priority of queue.priority ? [queue.priority] : PRIORITIES) {
      let after: GroupCandidate | undefined;
      for (;;) {
        const room = max - deliveries.length;
        if (room <= 0) break;
        const candidates = this.groups.candidates(priority, queue.domain, after, EMBEDDED_GROUP_CANDIDATES_PER_READ);
        if (candidates.length === 0) break;
        for (const candidate of candidates) {
          if (deliveries.length >= max) break;
          after = candidate;
          const admission = this.groups.admission(queue.domain, candidate.grp, clock, wall);
          if (!admission.admitted) {
            if (admission.dueAt !== undefined) nextTokenDueAt = Math.min(nextTokenDueAt, admission.dueAt);
            continue;
          }
          const row = this.statements.head.get({ ...clock, priority, domain: queue.domain, grp: candidate.grp }) as EmbeddedItemRow | undefined;
          if (!row) continue;
          deliveries.push(this.lease(row, leaseMs, now));
          this.groups.handedOut(priority, queue.domain, candidate.grp, admission, wall);
        }
      }
    }
    return nextTokenDueAt === Infinity ? { deliveries } : { deliveries, nextTokenAt: now + (nextTokenDueAt - wall) };
  }

  /** Monotonic time at which the next hold on this queue ends (a lease lapses or a retry delay passes). */
  nextHoldEnd(queue: QueueRef): number | undefined {
    const at = this.statements.nextHold.get({ boot: this.boot, now: performance.now(), domain: queue.domain, priority: queue.priority ?? null });
    return typeof at === 'number' ? at : undefined;
  }

  /** See EmbeddedGroupStore.list; in-flight counts read this store's clock. @throws KanbanValidationError */
  listGroups(domain: string, filter: GroupFilter): GroupPage {
    return this.groups.list(domain, filter, this.clock(performance.now()));
  }

  /** The group of the acked item; undefined when `ref` does not hold the current lease, or its time is up (even if nobody took the item since). */
  ack(ref: LeaseRef): { grp: string } | undefined {
    return this.statements.ack.get(this.fence(ref)) as { grp: string } | undefined;
  }

  /** False when `ref` does not hold the current lease. `headers` go into the stored item for its next attempt. */
  retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): boolean {
    const row = headers && this.leased(ref);
    if (headers && row) this.statements.rewriteBody.run({ seq: row.seq, body: withHeaders(row.body, headers) });
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

  private clock(now: number): HoldClock {
    return { boot: this.boot, now, maxAttempts: this.settings.maxAttempts };
  }

  /** A settle holds only with the current lease, still running on this boot's clock. */
  private fence(ref: LeaseRef): { id: string; domain: string; lease: string; boot: string; now: number } {
    return { id: ref.id, domain: ref.domain, lease: ref.lease, boot: this.boot, now: performance.now() };
  }
}
