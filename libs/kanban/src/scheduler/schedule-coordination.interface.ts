import type { Priority } from '../interfaces/work-item.interface';
import type { BusyBehavior, CatchUpPolicy } from './schedule.interface';
import type { LeaseLeadership } from '../transport/lease-leadership.interface';

/** What a schedule is, as stored: enough for any instance to rebuild and fire it after a restart. */
export interface ScheduleDefinition {
  jobId: string;
  kind: 'interval' | 'cron';
  priority: Priority;
  domain: string;
  intervalMs?: number;
  cron?: string;
  deadlineMs: number;
  payload: unknown;
  whenBusy: BusyBehavior;
  catchUp: CatchUpPolicy;
}

/** Schedules kept on the broker or store, shared by every instance of the fleet. */
export interface ScheduleStore {
  /** Creates or replaces the definition under its jobId. */
  save(definition: ScheduleDefinition): Promise<void>;
  /** Removes the definition and its last tick; a missing jobId is not an error. */
  remove(jobId: string): Promise<void>;
  list(): Promise<ScheduleDefinition[]>;
  /** Remembers the tick time (epoch ms) last fired, for the missed-run policy. */
  recordTick(jobId: string, tickTime: number): Promise<void>;
  lastTick(jobId: string): Promise<number | undefined>;
}

/**
 * Which instance fires ticks: a lease of its own (see LeaseLeadership); the tick's idempotency key
 * removes a double published across a hand-over.
 */
export type ScheduleLeadership = LeaseLeadership;

/** A transport's schedule storage and leadership; see `KanbanTransport.scheduleCoordination`. */
export interface ScheduleCoordination {
  store: ScheduleStore;
  leadership: ScheduleLeadership;
}
