import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { ScheduleDefinition, ScheduleStore } from '../../scheduler/schedule-coordination.interface';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import { RabbitMqDeclaredConnection } from './rabbitmq-declared-connection';
import { RabbitMqStreamFollower } from './rabbitmq-stream-follower';
import { RABBITMQ_HEADERS, RABBITMQ_SCHEDULE_READ_PREFETCH, RABBITMQ_SCHEDULE_SYNC_TIMEOUT_MS } from './rabbitmq.constants';

/** One record of a schedule stream, as JSON in the message body. */
type ScheduleRecord = { type: 'save'; definition: ScheduleDefinition } | { type: 'remove'; jobId: string } | { type: 'tick'; jobId: string; tickTime: number } | { type: 'sync' };

/**
 * Schedules in two streams every instance reads from the first record and then follows, folding
 * them in memory:
 * - `kanban.schedules`: `save` (the whole definition) and `remove` records, kept whole, so the
 *   definitions survive restarts of every instance and of the broker;
 * - `kanban.schedule-ticks`: a `tick` record per fired tick and a `remove` record per removed
 *   schedule; it grows with every tick, so it has an age limit (RABBITMQ_SCHEDULE_TICK_MAX_AGE).
 * Writes wait until this instance's reader applied them (read your writes). The first `list()` of
 * a reader, and every `lastTick()`, append a `sync` record and wait for it, so they see everything
 * any instance appended before; later `list()` calls answer from the fold, which the reader keeps
 * current within a few milliseconds, without appending to a stream that is never trimmed.
 */
export class RabbitMqScheduleStore implements ScheduleStore {
  private readonly connection: RabbitMqDeclaredConnection;
  private readonly definitions = new Map<string, ScheduleDefinition>();
  private readonly ticks = new Map<string, number>();
  private readonly definitionLog: RabbitMqStreamFollower;
  private readonly tickLog: RabbitMqStreamFollower;
  /** Reader generation of the definition log that a sync proved caught up. */
  private caughtUpGeneration?: number;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
    declare: () => Promise<void>,
  ) {
    this.connection = new RabbitMqDeclaredConnection(declare);
    this.definitionLog = new RabbitMqStreamFollower(names.scheduleLog, RABBITMQ_SCHEDULE_READ_PREFETCH, (message) => this.applyDefinition(message), logger);
    this.tickLog = new RabbitMqStreamFollower(names.scheduleTickLog, RABBITMQ_SCHEDULE_READ_PREFETCH, (message) => this.applyTick(message), logger);
  }

  attach(model: ChannelModel): void {
    this.connection.attach(model);
  }

  detach(reason: string): void {
    this.connection.detach();
    this.definitionLog.stop(reason);
    this.tickLog.stop(reason);
  }

  async save(definition: ScheduleDefinition): Promise<void> {
    await this.appendAndAwait(this.definitionLog, this.names.scheduleLog, { type: 'save', definition });
  }

  /** The last tick goes first: a crash in between leaves a schedule without a last tick, never a last tick that a later schedule of the same name would catch up from. */
  async remove(jobId: string): Promise<void> {
    await this.appendAndAwait(this.tickLog, this.names.scheduleTickLog, { type: 'remove', jobId });
    await this.appendAndAwait(this.definitionLog, this.names.scheduleLog, { type: 'remove', jobId });
  }

  async list(): Promise<ScheduleDefinition[]> {
    if (this.caughtUpGeneration !== this.definitionLog.readerGeneration) {
      await this.appendAndAwait(this.definitionLog, this.names.scheduleLog, { type: 'sync' });
      // The append started the reader, so its generation is the one that read the sync record.
      this.caughtUpGeneration = this.definitionLog.readerGeneration;
    }
    return [...this.definitions.values()];
  }

  async recordTick(jobId: string, tickTime: number): Promise<void> {
    await this.append(this.names.scheduleTickLog, { type: 'tick', jobId, tickTime }, randomUUID());
  }

  async lastTick(jobId: string): Promise<number | undefined> {
    await this.appendAndAwait(this.tickLog, this.names.scheduleTickLog, { type: 'sync' });
    return this.ticks.get(jobId);
  }

  private applyDefinition(message: ConsumeMessage): void {
    const record = this.parse(message, this.names.scheduleLog);
    if (record?.type === 'save') this.definitions.set(record.definition.jobId, record.definition);
    if (record?.type === 'remove') this.definitions.delete(record.jobId);
  }

  /** Tick times only move forward: a late record of an earlier tick (a hand-over) does not move it back. */
  private applyTick(message: ConsumeMessage): void {
    const record = this.parse(message, this.names.scheduleTickLog);
    if (record?.type === 'tick') this.ticks.set(record.jobId, Math.max(record.tickTime, this.ticks.get(record.jobId) ?? record.tickTime));
    if (record?.type === 'remove') this.ticks.delete(record.jobId);
  }

  /** Bytes kanban did not write are skipped and logged, never fatal to the reader. */
  private parse(message: ConsumeMessage, stream: string): ScheduleRecord | undefined {
    try {
      return JSON.parse(message.content.toString('utf8')) as ScheduleRecord;
    } catch (error) {
      this.logger.warn(`Skipped a record of ${stream} that is not a kanban schedule record: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async appendAndAwait(follower: RabbitMqStreamFollower, stream: string, record: ScheduleRecord): Promise<void> {
    const model = await this.connection.ready();
    await follower.follow(model);
    const token = randomUUID();
    const { seen, cancel } = follower.expect(token, RABBITMQ_SCHEDULE_SYNC_TIMEOUT_MS);
    try {
      await this.append(stream, record, token);
    } catch (error) {
      cancel();
      throw error;
    }
    await seen;
  }

  private async append(stream: string, record: ScheduleRecord, token: string): Promise<void> {
    await this.connection.ready();
    await this.publisher.publish({ exchange: '', routingKey: stream, queue: stream }, Buffer.from(JSON.stringify(record)), { messageId: token, headers: { [RABBITMQ_HEADERS.token]: token } });
  }
}
