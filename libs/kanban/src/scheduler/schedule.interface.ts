import type { Priority } from '../interfaces/work-item.interface';

/** What a periodic tick does while its queue is above the high watermark. */
export type BusyBehavior = 'skip' | 'stretch';

export interface ScheduleOptions {
  /**
   * Stable name, used as the jobId. Instances that create a schedule with the same name publish
   * each tick once between them (the tick is deduplicated by idempotencyKey).
   */
  name?: string;
  /** @default 'skip' */
  whenBusy?: BusyBehavior;
}

export interface ScheduleStatus {
  jobId: string;
  kind: 'interval' | 'cron';
  priority: Priority;
  domain: string;
  intervalMs?: number;
  cron?: string;
  deadlineMs: number;
  whenBusy: BusyBehavior;
  /** Ticks that ended: always published + skipped + failed. */
  ticks: number;
  published: number;
  skipped: number;
  failed: number;
  /** Current stretch: ticks fire every `stretch`-th interval while busy. */
  stretch: number;
  /** Epoch ms of the last published tick. */
  lastPublishedAt?: number;
}
