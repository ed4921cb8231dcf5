import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob, validateCronExpression } from 'cron';
import { KANBAN_OPTIONS } from '../kanban.constants';
import { KanbanValidationError, ScheduleConflictError, ScheduleNotFoundError, type FieldError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { Priority } from '../interfaces/work-item.interface';
import { newItemId } from '../codec/item-id';
import { KanbanQueue } from '../queue/kanban-queue';
import { domainError, priorityError } from '../validation';
import { CanaryTracker } from './canary-tracker';
import type { CanaryResult } from './canary-result.interface';
import type { ScheduleOptions, ScheduleStatus } from './schedule.interface';

/** Header marking canary items. */
export const CANARY_HEADER = 'kanban-canary';
/** Longest stretch: while busy a stretching schedule fires at most every 8th interval. */
export const MAX_STRETCH = 8;
/** Canary items must settle within this, or they count as dead-lettered by their deadline. */
export const CANARY_DEADLINE_MS = 60_000;

interface Schedule {
  status: ScheduleStatus;
  payload: unknown;
  stop(): void;
  /** Ticks left to skip while stretched. */
  wait: number;
  cancelled: boolean;
  /** The tick being published, awaited by cancel. */
  running?: Promise<void>;
}

/**
 * Periodic and cron publishing on @nestjs/schedule's SchedulerRegistry, with backpressure:
 * while the target queue is above highWatermark a tick is skipped or the interval stretched.
 */
@Injectable()
export class KanbanScheduler implements OnModuleDestroy {
  private readonly logger = new Logger('KanbanScheduler');
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly queue: KanbanQueue,
    private readonly canaries: CanaryTracker,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
  ) {}

  /**
   * Publishes `payload` to (priority, domain) every `intervalMs`, each item with a deadline
   * `deadlineMs` after its tick. Returns the jobId.
   * @throws KanbanValidationError, ScheduleConflictError
   */
  schedulePeriodic(priority: Priority, domain: string, intervalMs: number, deadlineMs: number, payload: unknown = null, options: ScheduleOptions = {}): string {
    const errors = this.check(priority, domain, deadlineMs);
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) errors.push({ field: 'intervalMs', message: 'must be a positive integer' });
    if (errors.length) throw new KanbanValidationError(errors);
    const schedule = this.create({ kind: 'interval', priority, domain, intervalMs, deadlineMs }, payload, options);
    const handle = setInterval(() => this.tick(schedule, Math.floor(Date.now() / intervalMs)), intervalMs);
    this.registry.addInterval(schedule.status.jobId, handle);
    schedule.stop = () => this.registry.deleteInterval(schedule.status.jobId);
    return schedule.status.jobId;
  }

  /**
   * Publishes on a cron expression (six fields with seconds, or five).
   * @throws KanbanValidationError, ScheduleConflictError
   */
  scheduleCron(priority: Priority, domain: string, cron: string, deadlineMs: number, payload: unknown = null, options: ScheduleOptions = {}): string {
    const errors = this.check(priority, domain, deadlineMs);
    const validation = typeof cron === 'string' ? validateCronExpression(cron) : { valid: false, error: undefined };
    if (!validation.valid) errors.push({ field: 'cron', message: `is not a valid cron expression${validation.error ? ` (${validation.error.message})` : ''}` });
    if (errors.length) throw new KanbanValidationError(errors);
    const schedule = this.create({ kind: 'cron', priority, domain, cron, deadlineMs }, payload, options);
    const job = new CronJob(cron, () => this.tick(schedule, Math.floor(Date.now() / 1000)));
    this.registry.addCronJob(schedule.status.jobId, job);
    job.start();
    schedule.stop = () => this.registry.deleteCronJob(schedule.status.jobId);
    return schedule.status.jobId;
  }

  /**
   * Publishes one high-priority canary item to the domain; its outcome and latency appear in
   * `results` here and in the coordinator's health once a worker settles it.
   */
  async scheduleCanary(domain: string, payload: unknown): Promise<CanaryResult> {
    const jobId = `canary-${newItemId()}`;
    const receipt = await this.queue.publish({ priority: 'high', domain, payload, deadlineMs: CANARY_DEADLINE_MS, headers: { [CANARY_HEADER]: jobId } });
    const result: CanaryResult = { jobId, itemId: receipt.id, domain, broker: receipt.broker, publishedAt: Date.now(), status: 'pending' };
    this.canaries.track(result);
    this.logger.log(`Canary ${jobId} published to ${domain} as ${receipt.id}`);
    return { ...result };
  }

  /**
   * Stops the schedule; resolves once no tick of it is still publishing.
   * @throws ScheduleNotFoundError
   */
  async cancelSchedule(jobId: string): Promise<void> {
    const schedule = this.schedules.get(jobId);
    if (!schedule) throw new ScheduleNotFoundError(jobId);
    schedule.cancelled = true;
    schedule.stop();
    this.schedules.delete(jobId);
    await schedule.running;
    this.logger.log(`Schedule ${jobId} cancelled after ${schedule.status.published} published ticks`);
  }

  list(): ScheduleStatus[] {
    return [...this.schedules.values()].map((s) => ({ ...s.status }));
  }

  /** @throws ScheduleNotFoundError */
  get(jobId: string): ScheduleStatus {
    const schedule = this.schedules.get(jobId);
    if (!schedule) throw new ScheduleNotFoundError(jobId);
    return { ...schedule.status };
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.schedules.keys()].map((jobId) => this.cancelSchedule(jobId)));
  }

  private check(priority: Priority, domain: string, deadlineMs: number): FieldError[] {
    const errors: FieldError[] = [];
    const p = priorityError(priority);
    if (p) errors.push({ field: 'priority', message: p });
    const d = domainError(domain);
    if (d) errors.push({ field: 'domain', message: d });
    if (!Number.isSafeInteger(deadlineMs) || deadlineMs < 1) errors.push({ field: 'deadlineMs', message: 'must be a positive integer' });
    return errors;
  }

  private create(spec: Pick<ScheduleStatus, 'kind' | 'priority' | 'domain' | 'intervalMs' | 'cron' | 'deadlineMs'>, payload: unknown, options: ScheduleOptions): Schedule {
    const jobId = options.name ?? `schedule-${newItemId()}`;
    if (this.schedules.has(jobId)) throw new ScheduleConflictError(jobId);
    const schedule: Schedule = {
      status: { ...spec, jobId, whenBusy: options.whenBusy ?? 'skip', ticks: 0, published: 0, skipped: 0, failed: 0, stretch: 1 },
      payload,
      stop: () => undefined,
      wait: 0,
      cancelled: false,
    };
    this.schedules.set(jobId, schedule);
    this.logger.log(`Schedule ${jobId} created: ${spec.kind} ${spec.intervalMs ?? spec.cron} -> ${spec.priority}.${spec.domain}`);
    return schedule;
  }

  private tick(schedule: Schedule, slot: number): void {
    if (schedule.running) {
      schedule.status.ticks++;
      schedule.status.skipped++;
      return;
    }
    schedule.running = this.publishTick(schedule, slot).finally(() => (schedule.running = undefined));
  }

  /** A tick is counted with its outcome, so `ticks` = published + skipped + failed whenever the status is read. */
  private async publishTick(schedule: Schedule, slot: number): Promise<void> {
    const { status } = schedule;
    const count = (outcome: 'published' | 'skipped' | 'failed'): void => {
      status.ticks++;
      status[outcome]++;
    };
    if (schedule.wait > 0) {
      schedule.wait--;
      count('skipped');
      return;
    }
    try {
      if (await this.isBusy(status)) {
        if (status.whenBusy === 'stretch') {
          status.stretch = Math.min(status.stretch * 2, MAX_STRETCH);
          schedule.wait = status.stretch - 1;
        }
        count('skipped');
        return;
      }
      status.stretch = 1;
      if (schedule.cancelled) return;
      await this.queue.publish({
        priority: status.priority,
        domain: status.domain,
        payload: schedule.payload,
        deadlineMs: status.deadlineMs,
        idempotencyKey: `schedule:${status.jobId}:${slot}`,
      });
      status.lastPublishedAt = Date.now();
      count('published');
    } catch (error) {
      count('failed');
      this.logger.error(`Schedule ${status.jobId} tick failed: ${(error as Error).message}`);
    }
  }

  private async isBusy(status: ScheduleStatus): Promise<boolean> {
    const watermark = this.options.highWatermark;
    const depth = await this.queue.depth();
    const queue = depth.filter((q) => q.priority === status.priority && q.domain === status.domain).reduce((n, q) => n + q.ready, 0);
    return queue > watermark;
  }
}
