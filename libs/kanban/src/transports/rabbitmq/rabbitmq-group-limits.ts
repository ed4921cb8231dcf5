import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { KanbanValidationError } from '../../errors';
import type { GroupLimits } from '../../interfaces/group.interface';
import type { TransportSettings } from '../../transport';
import { domainError, groupError } from '../../validation/validate-publish-request';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import { RabbitMqDeclaredConnection } from './rabbitmq-declared-connection';
import { RabbitMqStreamFollower } from './rabbitmq-stream-follower';
import { RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS, RABBITMQ_HEADERS, RABBITMQ_SCHEDULE_READ_PREFETCH, RABBITMQ_SCHEDULE_SYNC_TIMEOUT_MS } from './rabbitmq.constants';
import { groupLimitsInForce, type EffectiveGroupLimits } from '../../groups/group-limits-in-force';

/** One record of the group-limits stream, as JSON: a group's override (none: cleared), or a sync marker. */
type GroupLimitsRecord = { type: 'set'; domain: string; group: string; limits?: GroupLimits } | { type: 'sync' };

/**
 * Run-time group limits in the stream `kanban.group-limits`, read by every instance from its first
 * record and then followed (the schedules' pattern), folded into overrides by domain and group. A
 * change waits until this instance's reader applied it; the first read of a process appends a
 * `sync` record and waits for it, later ones answer from the fold, which follows other instances'
 * changes within milliseconds. The stream grows by one record per change and per reader start.
 */
export class RabbitMqGroupLimits {
  private readonly connection: RabbitMqDeclaredConnection;
  private readonly overridesByDomain = new Map<string, Map<string, GroupLimits>>();
  private readonly log: RabbitMqStreamFollower;
  private everCaughtUp = false;
  private catchingUp?: Promise<void>;
  private lastReadAttemptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly settings: TransportSettings['groups'],
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
    declare: () => Promise<void>,
  ) {
    this.connection = new RabbitMqDeclaredConnection(declare);
    this.log = new RabbitMqStreamFollower(names.groupLimitsLog, RABBITMQ_SCHEDULE_READ_PREFETCH, (message) => this.apply(message), logger);
  }

  attach(model: ChannelModel): void {
    this.connection.attach(model);
  }

  detach(reason: string): void {
    this.connection.detach();
    this.log.stop(reason);
  }

  /**
   * Stores the override of one group (all priorities); `null` or no field clears it.
   * @throws KanbanValidationError, BrokerUnavailableError
   */
  async set(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    const invalid = [
      { field: 'domain', message: domainError(domain) },
      { field: 'group', message: groupError(group) },
    ].filter((error): error is { field: string; message: string } => error.message !== undefined);
    if (invalid.length > 0) throw new KanbanValidationError(invalid);
    const kept: GroupLimits = {
      ...(limits?.maxInFlight !== undefined ? { maxInFlight: limits.maxInFlight } : {}),
      ...(limits?.ratePerSecond !== undefined ? { ratePerSecond: limits.ratePerSecond } : {}),
    };
    await this.appendAndAwait({ type: 'set', domain, group, ...(Object.keys(kept).length > 0 ? { limits: kept } : {}) });
  }

  /**
   * Reads the stream up to now once per process, so the fold holds every change made before.
   * After a reconnect the reader resumes where it stopped and the fold stays in use meanwhile: a
   * stream can take a long time to come back after a kill -9 of its node, and grouped items must
   * not wait for it.
   * @throws BrokerUnavailableError
   */
  async caughtUp(): Promise<void> {
    if (this.everCaughtUp) return;
    this.catchingUp ??= this.appendAndAwait({ type: 'sync' })
      .then(() => {
        this.everCaughtUp = true;
      })
      .finally(() => {
        this.catchingUp = undefined;
      });
    await this.catchingUp;
  }

  /**
   * Whether the fold holds every change made before this process first read the stream; if not,
   * starts that read. Once it does, keeps the reader following (restarted at most every
   * RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS after a reconnect). Failures are logged: callers go on.
   */
  known(): boolean {
    const now = performance.now();
    if (now - this.lastReadAttemptAt < RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS || !this.connection.current) return this.everCaughtUp;
    this.lastReadAttemptAt = now;
    const reading = this.everCaughtUp ? this.log.follow(this.connection.current) : this.caughtUp();
    reading.catch((error: unknown) => {
      if (this.connection.current)
        this.logger.warn(`Could not read ${this.names.groupLimitsLog} (${(error as Error).message}); ${this.everCaughtUp ? 'the limits read so far apply' : 'grouped items wait until it is read'}`);
    });
    return this.everCaughtUp;
  }

  /** The run-time overrides of a domain's groups, as folded so far. */
  overrides(domain: string): ReadonlyMap<string, GroupLimits> {
    return this.overridesByDomain.get(domain) ?? new Map();
  }

  /** The limits in force for `group`: its override, else the domain's defaults, else the global ones, field by field. */
  effective(domain: string, group: string): EffectiveGroupLimits {
    const override = this.overridesByDomain.get(domain)?.get(group);
    return { limits: groupLimitsInForce(this.settings, domain, override), ...(override ? { override } : {}) };
  }

  private apply(message: ConsumeMessage): void {
    let record: GroupLimitsRecord;
    try {
      record = JSON.parse(message.content.toString('utf8')) as GroupLimitsRecord;
    } catch (error) {
      this.logger.warn(`Skipped a record of ${this.names.groupLimitsLog} that is not a kanban group-limits record: ${(error as Error).message}`);
      return;
    }
    if (record.type !== 'set') return;
    let groups = this.overridesByDomain.get(record.domain);
    if (!groups) this.overridesByDomain.set(record.domain, (groups = new Map<string, GroupLimits>()));
    if (record.limits) groups.set(record.group, record.limits);
    else groups.delete(record.group);
  }

  private async appendAndAwait(record: GroupLimitsRecord): Promise<void> {
    const model = await this.connection.ready();
    await this.log.follow(model);
    const token = randomUUID();
    const { seen, cancel } = this.log.expect(token, RABBITMQ_SCHEDULE_SYNC_TIMEOUT_MS);
    // The reader may stop while the append is on its way: that rejection is the one awaited below.
    seen.catch(() => undefined);
    try {
      const stream = this.names.groupLimitsLog;
      await this.publisher.publish({ exchange: '', routingKey: stream, queue: stream }, Buffer.from(JSON.stringify(record)), { messageId: token, headers: { [RABBITMQ_HEADERS.token]: token } });
    } catch (error) {
      cancel();
      throw error;
    }
    await seen;
  }
}
