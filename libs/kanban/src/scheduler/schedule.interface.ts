import type { ScheduleDefinition } from './schedule-coordination.interface';
import type { Priority } from '../interfaces/work-item.interface';

/** What a periodic tick does while its queue is above the high watermark. */
export type BusyBehavior = 'skip' | 'stretch';

/**
 * Ticks missed while no instance could fire (every instance down, or a leader hand-over), counted
 * from the last tick fired: `none` skips them, `one` publishes the latest of them, `all` publishes
 * each (at most MAX_CATCH_UP_TICKS).
 */
export type CatchUpPolicy = 'none' | 'one' | 'all';

export interface ScheduleOptions {
  /**
   * Stable name, used as the jobId; creating a schedule under a stored name throws
   * ScheduleConflictError. Schedules that code declares on every start belong in
   * `KanbanModuleOptions.schedules`, which replaces the stored one of the same name.
   */
  name?: string;
  /** @default 'skip' */
  whenBusy?: BusyBehavior;
  /** @default 'none' */
  catchUp?: CatchUpPolicy;
}

/** A schedule declared in `KanbanModuleOptions.schedules`, created (or updated) on start-up. */
export interface ScheduleDeclaration extends ScheduleOptions {
  name: string;
  priority: Priority;
  domain: string;
  /** Exactly one of `intervalMs` and `cron`. */
  intervalMs?: number;
  cron?: string;
  deadlineMs: number;
  /** @default null */
  payload?: unknown;
}

/** A schedule's definition (less its payload) and what this instance saw of its ticks. */
export interface ScheduleStatus extends Omit<ScheduleDefinition, 'payload'> {
  /** Ticks this instance handled as leader: always published + skipped + failed. */
  ticks: number;
  published: number;
  skipped: number;
  failed: number;
  /** Current stretch: ticks fire every `stretch`-th interval while busy. */
  stretch: number;
  /** Epoch ms of the last published tick. */
  lastPublishedAt?: number;
}
