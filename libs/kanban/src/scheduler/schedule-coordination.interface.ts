import type { Priority } from '../interfaces/work-item.interface';
import type { BusyBehavior, CatchUpPolicy } from './schedule.interface';

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
 * Which instance fires ticks, decided by the broker (a lease it expires), never by the instances
 * among themselves. At most one instance holds it at a time, up to the clock drift inside a lease;
 * the tick's idempotency key removes a double published across a hand-over.
 */
export interface ScheduleLeadership {
  /** Starts competing for the lease in the background. */
  start(): void;
  isLeader(): boolean;
  /** Grows by one each time this instance wins the lease. */
  readonly epoch: number;
  /** Stops competing and gives the lease up if held. */
  close(): Promise<void>;
}

/** A transport's schedule storage and leadership; see `KanbanTransport.scheduleCoordination`. */
export interface ScheduleCoordination {
  store: ScheduleStore;
  leadership: ScheduleLeadership;
}
