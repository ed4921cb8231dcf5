import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { validateCronExpression } from 'cron';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT } from '../kanban.constants';
import { KanbanValidationError, ScheduleConflictError, ScheduleNotFoundError, type FieldError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { Priority } from '../interfaces/work-item.interface';
import { newItemId } from '../codec/item-id';
import { KanbanQueue } from '../queue/kanban-queue';
import { KanbanTransport } from '../transport/kanban-transport';
import { domainError, priorityError } from '../validation';
import { CanaryTracker } from '../canary/canary-tracker';
import type { CanaryResult } from '../canary/canary-result.interface';
import { nextTickAfter } from './schedule-clock';
import type { ScheduleCoordination, ScheduleDefinition } from './schedule-coordination.interface';
import type { BusyBehavior, CatchUpPolicy, ScheduleDeclaration, ScheduleOptions, ScheduleStatus } from './schedule.interface';
import { MAX_CATCH_UP_TICKS, MAX_TIMER_DELAY_MS, SCHEDULE_SYNC_INTERVAL_MS, SCHEDULE_SYNC_JOB } from './scheduler.constants';

/** Header marking canary items. */
export const CANARY_HEADER = 'kanban-canary';
/** Longest stretch: while busy a stretching schedule fires at most every 8th interval. */
export const MAX_STRETCH = 8;
/** Canary items must settle within this, or they count as dead-lettered by their deadline. */
export const CANARY_DEADLINE_MS = 60_000;

const BUSY_BEHAVIORS: readonly BusyBehavior[] = ['skip', 'stretch'];
const CATCH_UP_POLICIES: readonly CatchUpPolicy[] = ['none', 'one', 'all'];

interface Schedule {
  definition: ScheduleDefinition;
  status: ScheduleStatus;
  /** Ticks left to skip while stretched. */
  wait: number;
  cancelled: boolean;
  /** The tick being published, awaited by cancel. */
  running?: Promise<void>;
  /** Leadership epoch in which this schedule last caught up on missed ticks. */
  epoch: number;
}

/** The tick's idempotency key: a tick published twice (a leader hand-over, a catch-up) becomes one item. */
export const tickKey = (jobId: string, tickTime: number): string => `schedule:${jobId}:${tickTime}`;

/**
 * Periodic and cron publishing on kanban's own SchedulerRegistry, with backpressure: while the
 * target queue is above highWatermark a tick is skipped or the interval stretched.
 *
 * When the transport offers schedule coordination (NATS, RabbitMQ, embedded, failover), schedules
 * are kept on the broker or store and reloaded on start, every instance mirrors them, and only the
 * instance holding the broker's leadership lease fires ticks. Tick times are the same on every
 * instance (multiples of the interval, or the cron times), so a hand-over neither skips nor
 * repeats one, and the tick's idempotency key removes a double published across it.
 */
@Injectable()
export class KanbanScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('KanbanScheduler');
  private readonly schedules = new Map<string, Schedule>();
  private readonly coordination?: ScheduleCoordination;
  /** Creates, cancels and syncs run one at a time, so a sync never undoes a create it did not see. */
  private serial: Promise<unknown> = Promise.resolve();
  private syncFailing = false;
  /** Declarations not yet stored because the broker was away at start-up; each sync stores them first. */
  private unsaved: ScheduleDefinition[] = [];

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly queue: KanbanQueue,
    private readonly canaries: CanaryTracker,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
    @Inject(KANBAN_TRANSPORT) transport: KanbanTransport,
  ) {
    this.coordination = transport.scheduleCoordination(options.scheduleLeaseMs);
  }

  /**
   * Publishes `payload` to (priority, domain) every `intervalMs`, each item with a deadline
   * `deadlineMs` after its tick. Ticks fall on multiples of `intervalMs` since the epoch.
   * Resolves to the jobId once the schedule is stored.
   * @throws KanbanValidationError, ScheduleConflictError, BrokerUnavailableError
   */
  async schedulePeriodic(priority: Priority, domain: string, intervalMs: number, deadlineMs: number, payload: unknown = null, options: ScheduleOptions = {}): Promise<string> {
    return this.create(this.definitionOf({ kind: 'interval', priority, domain, intervalMs, deadlineMs }, payload, options));
  }

  /**
   * Publishes on a cron expression (six fields with seconds, or five).
   * @throws KanbanValidationError, ScheduleConflictError, BrokerUnavailableError
   */
  async scheduleCron(priority: Priority, domain: string, cron: string, deadlineMs: number, payload: unknown = null, options: ScheduleOptions = {}): Promise<string> {
    return this.create(this.definitionOf({ kind: 'cron', priority, domain, cron, deadlineMs }, payload, options));
  }

  /**
   * Publishes one high-priority canary item to the domain; its outcome and latency appear in
   * `results` here and in the coordinator's health once a worker settles it.
   */
  async scheduleCanary(domain: string, payload: unknown): Promise<CanaryResult> {
    const jobId = `canary-${newItemId()}`;
    const publishedAt = Date.now();
    const result = await this.canaries.follow(async () => {
      const receipt = await this.queue.publish({ priority: 'high', domain, payload, deadlineMs: CANARY_DEADLINE_MS, headers: { [CANARY_HEADER]: jobId } });
      return { jobId, itemId: receipt.id, domain, broker: receipt.broker, publishedAt, status: 'pending' as const };
    });
    this.logger.log(`Canary ${jobId} published to ${domain} as ${result.itemId}`);
    return { ...result };
  }

  /**
   * Removes the schedule from the store and stops it here; resolves once no tick of it is still
   * publishing. Other instances stop it on their next sync.
   * @throws ScheduleNotFoundError, BrokerUnavailableError
   */
  async cancelSchedule(jobId: string): Promise<void> {
    await this.exclusive(async () => {
      const schedule = this.schedules.get(jobId);
      if (!schedule) throw new ScheduleNotFoundError(jobId);
      await this.coordination?.store.remove(jobId);
      await this.unmount(schedule);
      this.logger.log(`Schedule ${jobId} cancelled after ${schedule.status.published} published ticks here`);
    });
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

  /**
   * Creates the schedules of `options.schedules` (replacing stored ones of the same name), loads
   * the stored ones and starts competing for leadership. What the broker cannot take or give now
   * (it is down at start-up) is stored or read by the next sync.
   * @throws KanbanValidationError for a bad declaration
   */
  async onApplicationBootstrap(): Promise<void> {
    const declared = this.options.schedules.map((declaration) => this.declarationOf(declaration));
    for (const definition of declared) {
      try {
        await this.create(definition, true);
      } catch (error) {
        this.logger.error(`Declared schedule ${definition.jobId} not stored yet, retrying with the next sync: ${(error as Error).message}`);
        this.unsaved.push(definition);
      }
    }
    const coordination = this.coordination;
    if (!coordination) return;
    await this.syncNow();
    coordination.leadership.start();
    this.registry.addInterval(
      SCHEDULE_SYNC_JOB,
      setInterval(() => void this.syncNow(), SCHEDULE_SYNC_INTERVAL_MS),
    );
  }

  /** Stops this instance's timers and leadership; the stored schedules stay for the next start. */
  async onModuleDestroy(): Promise<void> {
    if (this.registry.doesExist('interval', SCHEDULE_SYNC_JOB)) this.registry.deleteInterval(SCHEDULE_SYNC_JOB);
    await this.exclusive(() => Promise.all([...this.schedules.values()].map((schedule) => this.unmount(schedule))));
    await this.coordination?.leadership.close();
  }

  /** @throws KanbanValidationError listing every bad field */
  private declarationOf(declaration: ScheduleDeclaration): ScheduleDefinition {
    const { name, priority, domain, intervalMs, cron, deadlineMs, payload = null, whenBusy, catchUp } = declaration;
    const kind = cron === undefined ? 'interval' : 'cron';
    return this.definitionOf({ kind, priority, domain, intervalMs, cron, deadlineMs }, payload, { name, whenBusy, catchUp });
  }

  /** @throws KanbanValidationError listing every bad field */
  private definitionOf(spec: Pick<ScheduleDefinition, 'kind' | 'priority' | 'domain' | 'intervalMs' | 'cron' | 'deadlineMs'>, payload: unknown, options: ScheduleOptions): ScheduleDefinition {
    const definition: ScheduleDefinition = {
      jobId: options.name ?? `schedule-${newItemId()}`,
      kind: spec.kind,
      priority: spec.priority,
      domain: spec.domain,
      ...(spec.kind === 'interval' ? { intervalMs: spec.intervalMs } : { cron: spec.cron }),
      deadlineMs: spec.deadlineMs,
      payload,
      whenBusy: options.whenBusy ?? 'skip',
      catchUp: options.catchUp ?? 'none',
    };
    const errors = definitionErrors(definition);
    if (errors.length) throw new KanbanValidationError(errors);
    return definition;
  }

  /** An existing jobId is refused, or with `replace` (code declarations) replaced when its definition differs. */
  private create(definition: ScheduleDefinition, replace = false): Promise<string> {
    return this.exclusive(async () => {
      const existing = this.schedules.get(definition.jobId);
      if (existing && !replace) throw new ScheduleConflictError(definition.jobId);
      if (existing && sameDefinition(existing.definition, definition)) return definition.jobId;
      await this.coordination?.store.save(definition);
      if (existing) await this.unmount(existing);
      this.mount(definition);
      return definition.jobId;
    });
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.serial.then(run);
    this.serial = result.catch(() => undefined);
    return result;
  }

  /** Logs the first failure of a streak and the recovery, not one line a second while the broker is away. */
  private async syncNow(): Promise<void> {
    try {
      await this.exclusive(() => this.sync());
      if (this.syncFailing) this.logger.log('Stored schedules read again');
      this.syncFailing = false;
    } catch (error) {
      if (!this.syncFailing) this.logger.error(`Stored schedules not read, retrying every ${SCHEDULE_SYNC_INTERVAL_MS} ms: ${(error as Error).message}`);
      this.syncFailing = true;
    }
  }

  /** Mirrors the stored schedules here: mounts new ones, unmounts removed or changed ones. */
  private async sync(): Promise<void> {
    const { store } = this.coordination as ScheduleCoordination;
    while (this.unsaved.length) {
      await store.save(this.unsaved[0]);
      this.unsaved.shift();
    }
    const stored = new Map((await store.list()).map((definition) => [definition.jobId, definition]));
    for (const schedule of [...this.schedules.values()]) {
      const definition = stored.get(schedule.definition.jobId);
      if (definition && sameDefinition(definition, schedule.definition)) continue;
      await this.unmount(schedule);
      this.logger.log(`Schedule ${schedule.definition.jobId} ${definition ? 'changed' : 'removed'} in the store`);
    }
    for (const definition of stored.values()) {
      if (this.schedules.has(definition.jobId)) continue;
      const errors = definitionErrors(definition);
      if (errors.length) {
        this.logger.error(`Stored schedule ${definition.jobId} ignored: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
        continue;
      }
      this.mount(definition);
    }
  }

  private mount(definition: ScheduleDefinition): void {
    const { jobId, kind, priority, domain, intervalMs, cron, deadlineMs, whenBusy, catchUp } = definition;
    const schedule: Schedule = {
      definition,
      status: { jobId, kind, priority, domain, intervalMs, cron, deadlineMs, whenBusy, catchUp, ticks: 0, published: 0, skipped: 0, failed: 0, stretch: 1 },
      wait: 0,
      cancelled: false,
      epoch: 0,
    };
    this.schedules.set(jobId, schedule);
    this.arm(schedule, nextTickAfter(definition, Date.now()));
    this.logger.log(`Schedule ${jobId} mounted: ${kind} ${intervalMs ?? cron} -> ${priority}.${domain}`);
  }

  private async unmount(schedule: Schedule): Promise<void> {
    schedule.cancelled = true;
    this.registry.deleteTimeout(schedule.definition.jobId);
    this.schedules.delete(schedule.definition.jobId);
    await schedule.running;
  }

  /** Wakes at tick time `at`; delays beyond setTimeout's range are reached in steps. */
  private arm(schedule: Schedule, at: number): void {
    const { jobId } = schedule.definition;
    const handle = setTimeout(
      () => {
        this.registry.deleteTimeout(jobId);
        if (Date.now() < at) return this.arm(schedule, at);
        this.arm(schedule, nextTickAfter(schedule.definition, Math.max(Date.now(), at)));
        this.tick(schedule, at);
      },
      Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_DELAY_MS),
    );
    this.registry.addTimeout(jobId, handle);
  }

  private tick(schedule: Schedule, tickTime: number): void {
    if (this.coordination && !this.coordination.leadership.isLeader()) return;
    if (schedule.running) {
      schedule.status.ticks++;
      schedule.status.skipped++;
      return;
    }
    schedule.running = this.publishTick(schedule, tickTime).finally(() => (schedule.running = undefined));
  }

  /** A tick is counted with its outcome, so `ticks` = published + skipped + failed whenever the status is read. */
  private async publishTick(schedule: Schedule, tickTime: number): Promise<void> {
    const { status } = schedule;
    const count = (outcome: 'published' | 'skipped' | 'failed'): void => {
      status.ticks++;
      status[outcome]++;
    };
    const epoch = this.coordination?.leadership.epoch ?? 0;
    if (schedule.epoch !== epoch) {
      schedule.epoch = epoch;
      await this.catchUp(schedule, tickTime, count);
    }
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
      await this.publish(schedule, tickTime);
      count('published');
    } catch (error) {
      count('failed');
      this.logger.error(`Schedule ${status.jobId} tick failed: ${(error as Error).message}`);
    }
  }

  /** Publishes the ticks missed since the last one fired, as the schedule's catchUp policy says. */
  private async catchUp(schedule: Schedule, tickTime: number, count: (outcome: 'published' | 'failed') => void): Promise<void> {
    const { definition } = schedule;
    if (!this.coordination || definition.catchUp === 'none') return;
    let missed: number[] = [];
    let dropped = 0;
    try {
      const last = await this.coordination.store.lastTick(definition.jobId);
      if (last === undefined) return;
      for (let t = nextTickAfter(definition, last); t < tickTime; t = nextTickAfter(definition, t)) {
        missed.push(t);
        if (missed.length > MAX_CATCH_UP_TICKS) {
          missed.shift();
          dropped++;
        }
      }
    } catch (error) {
      this.logger.error(`Schedule ${definition.jobId} missed ticks not read: ${(error as Error).message}`);
      return;
    }
    if (definition.catchUp === 'one') {
      dropped += Math.max(missed.length - 1, 0);
      missed = missed.slice(-1);
    }
    if (missed.length + dropped === 0) return;
    this.logger.warn(`Schedule ${definition.jobId} catching up ${missed.length} missed tick(s), skipping ${dropped} (catchUp ${definition.catchUp})`);
    for (const missedTime of missed) {
      if (schedule.cancelled) return;
      try {
        await this.publish(schedule, missedTime);
        count('published');
      } catch (error) {
        count('failed');
        this.logger.error(`Schedule ${definition.jobId} catch-up tick ${missedTime} failed: ${(error as Error).message}`);
      }
    }
  }

  private async publish(schedule: Schedule, tickTime: number): Promise<void> {
    const { definition, status } = schedule;
    await this.queue.publish({
      priority: definition.priority,
      domain: definition.domain,
      payload: definition.payload,
      deadlineMs: definition.deadlineMs,
      idempotencyKey: tickKey(definition.jobId, tickTime),
    });
    status.lastPublishedAt = Date.now();
    try {
      await this.coordination?.store.recordTick(definition.jobId, tickTime);
    } catch (error) {
      // The item is published; an unrecorded tick only makes a later catch-up repeat it, which its idempotency key removes.
      this.logger.warn(`Schedule ${definition.jobId} tick ${tickTime} published but not recorded: ${(error as Error).message}`);
    }
  }

  private async isBusy(status: ScheduleStatus): Promise<boolean> {
    const watermark = this.options.highWatermark;
    const depth = await this.queue.depth();
    const queue = depth.filter((q) => q.priority === status.priority && q.domain === status.domain).reduce((n, q) => n + q.ready, 0);
    return queue > watermark;
  }
}

function definitionErrors(definition: ScheduleDefinition): FieldError[] {
  const errors: FieldError[] = [];
  const p = priorityError(definition.priority);
  if (p) errors.push({ field: 'priority', message: p });
  const d = domainError(definition.domain);
  if (d) errors.push({ field: 'domain', message: d });
  if (!Number.isSafeInteger(definition.deadlineMs) || definition.deadlineMs < 1) errors.push({ field: 'deadlineMs', message: 'must be a positive integer' });
  if (definition.kind === 'interval' && (!Number.isSafeInteger(definition.intervalMs) || (definition.intervalMs as number) < 1)) {
    errors.push({ field: 'intervalMs', message: 'must be a positive integer' });
  }
  if (definition.kind === 'cron') {
    const validation = typeof definition.cron === 'string' ? validateCronExpression(definition.cron) : { valid: false, error: undefined };
    if (!validation.valid) errors.push({ field: 'cron', message: `is not a valid cron expression${validation.error ? ` (${validation.error.message})` : ''}` });
  }
  if (!BUSY_BEHAVIORS.includes(definition.whenBusy)) errors.push({ field: 'whenBusy', message: `must be one of ${BUSY_BEHAVIORS.join(', ')}` });
  if (!CATCH_UP_POLICIES.includes(definition.catchUp)) errors.push({ field: 'catchUp', message: `must be one of ${CATCH_UP_POLICIES.join(', ')}` });
  if (typeof definition.jobId !== 'string' || definition.jobId.length === 0 || definition.jobId.includes('/')) errors.push({ field: 'name', message: "must be a non-empty string without '/'" });
  return errors;
}

function sameDefinition(a: ScheduleDefinition, b: ScheduleDefinition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
