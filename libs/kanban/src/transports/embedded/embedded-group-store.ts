import type { Database, Statement } from 'better-sqlite3';
import { KanbanValidationError, type FieldError } from '../../errors';
import type { GroupFilter, GroupLimits, GroupPage, GroupState, Priority } from '../../interfaces';
import type { TransportSettings } from '../../transport';
import { invalidCursor } from '../../transport/dead-letter-cursor';
import { domainError, groupError } from '../../validation';
import { EMBEDDED_GROUP_LIST_DEFAULT_LIMIT, EMBEDDED_GROUP_RATE_PRUNE_INTERVAL_MS, EMBEDDED_GROUP_RATE_TOLERANCE_MS } from './embedded.constants';
import { EXHAUSTED, HELD, type HoldClock } from './embedded-hold-conditions';
import {
  EMBEDDED_GROUP_LIMITS_TABLE as LIMITS,
  EMBEDDED_GROUP_RATES_TABLE as RATES,
  EMBEDDED_GROUPS_TABLE as GROUPS,
  EMBEDDED_ITEMS_TABLE as ITEMS,
  EMBEDDED_LEASED_BY_GROUP_INDEX,
} from './embedded-schema';
import { groupLimitsInForce } from '../../groups/group-limits-in-force';

/** The default group (items published without one) in the store and in listGroups: no group name is empty. */
export const EMBEDDED_DEFAULT_GROUP = '';

/** A group of a (priority, domain) queue holding items, at its place in the round. */
export interface GroupCandidate {
  grp: string;
  served: number;
}

/**
 * Whether a group may hand out an item now: when admitted under a rate, the token to spend
 * (`interval` ms per item, `tat` its GCRA time); when its rate says no, the wall-clock time it may.
 */
export type GroupAdmission = { admitted: true; token?: { interval: number; tat: number } } | { admitted: false; dueAt?: number };

interface LimitsRow {
  max_in_flight: number | null;
  rate_per_second: number | null;
}

interface ListedRow extends LimitsRow {
  grp: string;
  items: number;
  in_flight: number;
  has_override: 0 | 1;
}

const CURSOR_PREFIX = 'group:';
const MS_PER_SECOND = 1_000;

/** Names of the domain's groups holding items or run-time limits, by name; `@after` bounds the page when set. */
function listSql(after: boolean): string {
  const from = after ? 'AND grp > @after' : '';
  return `
    SELECT n.grp,
      (SELECT COALESCE(SUM(g.items), 0) FROM ${GROUPS} g WHERE g.domain = @domain AND g.grp = n.grp) AS items,
      (SELECT COUNT(*) FROM ${ITEMS} i INDEXED BY ${EMBEDDED_LEASED_BY_GROUP_INDEX}
        WHERE i.domain = @domain AND i.grp = n.grp AND i.lease IS NOT NULL AND (${HELD} OR ${EXHAUSTED})) AS in_flight,
      l.max_in_flight, l.rate_per_second, l.grp IS NOT NULL AS has_override
    FROM (
      SELECT grp FROM ${GROUPS} WHERE domain = @domain ${from}
      UNION
      SELECT grp FROM ${LIMITS} WHERE domain = @domain ${from}
      ORDER BY grp LIMIT @limit
    ) n LEFT JOIN ${LIMITS} l ON l.domain = @domain AND l.grp = n.grp
    ORDER BY n.grp`;
}

/**
 * Group state of the store: the round-robin order of each queue's groups, run-time limits and
 * rate state. Synchronous, inside the write batch's transaction like EmbeddedItemStore.
 * Rate state is wall-clock time (Date.now()), so it holds across a reopen.
 */
export class EmbeddedGroupStore {
  /** The round-robin read a pull runs per step. The SQL a hand-out runs is named here for the query-plan check. */
  static readonly CANDIDATES_SQL = `SELECT grp, served FROM ${GROUPS}
    WHERE priority = @priority AND domain = @domain AND (served, grp) > (@served, @grp)
    ORDER BY served, grp LIMIT @limit`;
  /** Moves a group to the end of its queue's round after a hand-out. */
  static readonly MARK_SERVED_SQL = `UPDATE ${GROUPS} SET served = (SELECT MAX(served) FROM ${GROUPS} WHERE priority = @priority AND domain = @domain) + 1
    WHERE priority = @priority AND domain = @domain AND grp = @grp`;
  /** The in-flight count a capped group's admission runs. */
  static readonly IN_FLIGHT_SQL = `SELECT COUNT(*) FROM ${ITEMS} INDEXED BY ${EMBEDDED_LEASED_BY_GROUP_INDEX}
    WHERE domain = @domain AND grp = @grp AND lease IS NOT NULL AND ${HELD}`;

  private readonly statements: Record<'candidates' | 'markServed' | 'inFlight' | 'limits' | 'setLimits' | 'clearLimits' | 'rate' | 'setRate' | 'pruneRates' | 'listFirst' | 'listAfter', Statement>;
  private lastRatePrune = 0;

  constructor(
    db: Database,
    private readonly settings: TransportSettings,
  ) {
    this.statements = {
      candidates: db.prepare(EmbeddedGroupStore.CANDIDATES_SQL),
      markServed: db.prepare(EmbeddedGroupStore.MARK_SERVED_SQL),
      inFlight: db.prepare(EmbeddedGroupStore.IN_FLIGHT_SQL).pluck(),
      limits: db.prepare(`SELECT max_in_flight, rate_per_second FROM ${LIMITS} WHERE domain = @domain AND grp = @grp`),
      setLimits: db.prepare(
        `INSERT INTO ${LIMITS} (domain, grp, max_in_flight, rate_per_second) VALUES (@domain, @grp, @maxInFlight, @ratePerSecond)
         ON CONFLICT (domain, grp) DO UPDATE SET max_in_flight = excluded.max_in_flight, rate_per_second = excluded.rate_per_second`,
      ),
      clearLimits: db.prepare(`DELETE FROM ${LIMITS} WHERE domain = @domain AND grp = @grp`),
      rate: db.prepare(`SELECT tat FROM ${RATES} WHERE domain = @domain AND grp = @grp`).pluck(),
      setRate: db.prepare(`INSERT INTO ${RATES} (domain, grp, tat) VALUES (@domain, @grp, @tat) ON CONFLICT (domain, grp) DO UPDATE SET tat = excluded.tat`),
      pruneRates: db.prepare(`DELETE FROM ${RATES} WHERE tat < @before`),
      listFirst: db.prepare(listSql(false)),
      listAfter: db.prepare(listSql(true)),
    };
  }

  /** Up to `limit` groups of the queue holding items, least recently served first, after `after` in that order. */
  candidates(priority: Priority, domain: string, after: GroupCandidate | undefined, limit: number): GroupCandidate[] {
    return this.statements.candidates.all({ priority, domain, served: after?.served ?? -1, grp: after?.grp ?? '', limit }) as GroupCandidate[];
  }

  /**
   * Whether the group may hand out one more item: under its maxInFlight (leases held now, every
   * priority) and with a token of its rate (GCRA, burst 1). Takes nothing: `handedOut` does.
   */
  admission(domain: string, grp: string, clock: HoldClock, wall: number): GroupAdmission {
    const { maxInFlight, ratePerSecond } = this.limitsOf(domain, grp).limits;
    if (maxInFlight !== undefined && (this.statements.inFlight.get({ domain, grp, boot: clock.boot, now: clock.now }) as number) >= maxInFlight) {
      return { admitted: false };
    }
    if (ratePerSecond === undefined) return { admitted: true };
    const interval = MS_PER_SECOND / ratePerSecond;
    const tolerance = Math.min(EMBEDDED_GROUP_RATE_TOLERANCE_MS, interval / 2);
    const stored = this.statements.rate.get({ domain, grp }) as number | undefined;
    // A hand-out leaves tat at most interval + tolerance ahead; further ahead, the wall clock stepped back: capped, it cannot stall the group.
    const tat = Math.min(stored ?? -Infinity, wall + interval + tolerance);
    const dueAt = tat - tolerance;
    return wall >= dueAt ? { admitted: true, token: { interval, tat } } : { admitted: false, dueAt };
  }

  /** Moves the group to the end of the queue's round and spends the token `admission` found. */
  handedOut(priority: Priority, domain: string, grp: string, admission: GroupAdmission & { admitted: true }, wall: number): void {
    this.statements.markServed.run({ priority, domain, grp });
    if (!admission.token) return;
    this.statements.setRate.run({ domain, grp, tat: Math.max(admission.token.tat, wall) + admission.token.interval });
    this.pruneRates(wall);
  }

  /** Limits in force, field by field: run-time, else the domain's defaults, else the global ones. */
  limitsOf(domain: string, grp: string): { limits: GroupLimits; override?: GroupLimits } {
    const row = this.statements.limits.get({ domain, grp }) as LimitsRow | undefined;
    const override = row && toLimits(row);
    return { limits: groupLimitsInForce(this.settings.groups, domain, override), ...(override ? { override } : {}) };
  }

  /** Whether a settle in the group may let a waiting pull take more of it. */
  isCapped(domain: string, grp: string): boolean {
    return this.limitsOf(domain, grp).limits.maxInFlight !== undefined;
  }

  /** `null` or `{}` clears the run-time limits. @throws KanbanValidationError */
  setLimits(domain: string, grp: string, limits: GroupLimits | null): void {
    validateLimits(domain, grp, limits);
    if (limits === null || (limits.maxInFlight === undefined && limits.ratePerSecond === undefined)) {
      this.statements.clearLimits.run({ domain, grp });
      return;
    }
    this.statements.setLimits.run({ domain, grp, maxInFlight: limits.maxInFlight ?? null, ratePerSecond: limits.ratePerSecond ?? null });
  }

  /**
   * One page by name; counts over every priority, in flight = leased now or lapsed on the last
   * attempt (as depth counts). @throws KanbanValidationError for a bad domain, limit or cursor
   */
  list(domain: string, filter: GroupFilter, clock: HoldClock): GroupPage {
    const limit = filter.limit ?? EMBEDDED_GROUP_LIST_DEFAULT_LIMIT;
    const errors: FieldError[] = [];
    const domainProblem = domainError(domain);
    if (domainProblem) errors.push({ field: 'domain', message: domainProblem });
    if (!Number.isInteger(limit) || limit < 1) errors.push({ field: 'limit', message: 'must be a positive integer' });
    if (errors.length > 0) throw new KanbanValidationError(errors);
    const after = filter.cursor === undefined ? undefined : groupAfter(filter.cursor);
    const params = { ...clock, domain, limit: limit + 1, ...(after !== undefined ? { after } : {}) };
    const rows = (after === undefined ? this.statements.listFirst : this.statements.listAfter).all(params) as ListedRow[];
    const page = rows.slice(0, limit).map((row) => this.toState(domain, row));
    return rows.length > limit ? { items: page, nextCursor: cursorAfter(page[page.length - 1].group) } : { items: page };
  }

  private toState(domain: string, row: ListedRow): GroupState {
    const override = row.has_override ? toLimits(row) : undefined;
    return {
      group: row.grp,
      ready: row.items - row.in_flight,
      inFlight: row.in_flight,
      limits: groupLimitsInForce(this.settings.groups, domain, override),
      ...(override ? { override } : {}),
    };
  }

  /** A state whose next token is already due says nothing a missing one would not. */
  private pruneRates(wall: number): void {
    if (wall - this.lastRatePrune < EMBEDDED_GROUP_RATE_PRUNE_INTERVAL_MS) return;
    this.lastRatePrune = wall;
    this.statements.pruneRates.run({ before: wall });
  }
}

function toLimits(row: LimitsRow): GroupLimits {
  return {
    ...(row.max_in_flight !== null ? { maxInFlight: row.max_in_flight } : {}),
    ...(row.rate_per_second !== null ? { ratePerSecond: row.rate_per_second } : {}),
  };
}

/** @throws KanbanValidationError listing every bad field */
function validateLimits(domain: string, grp: string, limits: GroupLimits | null): void {
  const errors: FieldError[] = [];
  const domainProblem = domainError(domain);
  if (domainProblem) errors.push({ field: 'domain', message: domainProblem });
  const groupProblem = grp === EMBEDDED_DEFAULT_GROUP ? undefined : groupError(grp);
  if (groupProblem) errors.push({ field: 'group', message: groupProblem });
  if (limits !== null && (typeof limits !== 'object' || Array.isArray(limits))) {
    errors.push({ field: 'limits', message: 'must be an object with maxInFlight and/or ratePerSecond, or null' });
  } else if (limits !== null) {
    const { maxInFlight, ratePerSecond } = limits;
    if (maxInFlight !== undefined && !(Number.isSafeInteger(maxInFlight) && maxInFlight >= 1)) {
      errors.push({ field: 'maxInFlight', message: 'must be a positive integer' });
    }
    if (ratePerSecond !== undefined && !(typeof ratePerSecond === 'number' && Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
      errors.push({ field: 'ratePerSecond', message: 'must be a positive number' });
    }
  }
  if (errors.length > 0) throw new KanbanValidationError(errors);
}

function cursorAfter(group: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${group}`, 'utf8').toString('base64url');
}

/** @throws KanbanValidationError for a cursor this store did not hand out */
function groupAfter(cursor: string): string {
  if (typeof cursor !== 'string') throw invalidCursor();
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const group = decoded.slice(CURSOR_PREFIX.length);
  const wellFormed = decoded.startsWith(CURSOR_PREFIX) && (group === EMBEDDED_DEFAULT_GROUP || groupError(group) === undefined);
  if (!wellFormed || cursorAfter(group) !== cursor) throw invalidCursor();
  return group;
}
