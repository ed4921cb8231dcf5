/** Limits of one group within a domain; unset fields have no limit. */
export interface GroupLimits {
  /** Items of the group leased at once, across every worker and instance of the fleet. */
  maxInFlight?: number;
  /** Items of the group handed out per second (a token bucket shared by the fleet). */
  ratePerSecond?: number;
}

/** Fair-share options: defaults for every group, and per domain (overriding them). */
export interface KanbanGroupOptions {
  /** Default `maxInFlight` of every group. Unset: no cap. */
  maxInFlightPerGroup?: number;
  /** Default `ratePerSecond` of every group. Unset: no rate limit. */
  groupRatePerSecond?: number;
  /** Per-domain defaults; a group's run-time limits (`setGroupLimits`) override both. */
  domains?: Record<string, { maxInFlightPerGroup?: number; groupRatePerSecond?: number }>;
  /**
   * On NATS: items of one group in its queue at once when the group has no `maxInFlight` (the
   * rest wait in the group's backlog); a light group's item waits at most about (busy groups ×
   * this) hand-outs. @default 100
   */
  window?: number;
  /** Per-group metric labels (one series per group: mind the cardinality). @default false */
  metrics?: boolean;
}

/** One group of a domain, as `listGroups` reports it. */
export interface GroupState {
  group: string;
  /** Items waiting to be handed out. */
  ready: number;
  /** Items leased now (on NATS: admitted to the queue, leased or next in line). */
  inFlight: number;
  /** The limits in force: run-time ones, else the domain's, else the global defaults. */
  limits: GroupLimits;
  /** The run-time limits set with `setGroupLimits`, if any. */
  override?: GroupLimits;
}

/** Groups per page when a listing names no limit. */
export const GROUP_PAGE_DEFAULT_LIMIT = 100;
/** Most groups one page holds. */
export const GROUP_PAGE_MAX_LIMIT = 1_000;
/** Longer than any cursor a transport hands out for groups (a group name and a little more). */
export const GROUP_CURSOR_MAX_LENGTH = 256;

export interface GroupFilter {
  /** At most this many per page. @default 100 (GROUP_PAGE_DEFAULT_LIMIT), at most 1,000 */
  limit?: number;
  /** A `nextCursor` from the previous page. */
  cursor?: string;
}

export interface GroupPage {
  items: GroupState[];
  nextCursor?: string;
}
