import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { Priority } from '../../interfaces';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import { RabbitMqDeclaredConnection } from './rabbitmq-declared-connection';
import { RabbitMqStreamFollower } from './rabbitmq-stream-follower';
import { RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS, RABBITMQ_GROUP_SPILL_ANNOUNCE_MS, RABBITMQ_SCHEDULE_READ_PREFETCH } from './rabbitmq.constants';

/** A spill queue of (priority, domain)'s grouped queue that exists: a record of the spills stream, as JSON. */
interface SpillRecord {
  queue: string;
  priority: Priority;
  domain: string;
}

/**
 * Which spill queues exist, for every instance's depth and group listing (the broker cannot list
 * queues over AMQP): the stream `kanban.group-spills` (records older than a day may go), where a
 * spill's publisher announces it when it opens and whoever feeds or holds it announces it again
 * every RABBITMQ_GROUP_SPILL_ANNOUNCE_MS. Every instance that counts folds it; a queue the broker
 * no longer knows is dropped from the fold by whoever counts it.
 */
export class RabbitMqSpillRegistry {
  private readonly connection: RabbitMqDeclaredConnection;
  private readonly byQueue = new Map<string, SpillRecord>();
  private readonly log: RabbitMqStreamFollower;
  private lastReadAttemptAt = Number.NEGATIVE_INFINITY;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
    declare: () => Promise<void>,
    /** The spill queues this instance feeds or holds, announced again while they last. */
    private readonly live: () => SpillRecord[],
  ) {
    this.connection = new RabbitMqDeclaredConnection(declare);
    this.log = new RabbitMqStreamFollower(names.groupSpillsLog, RABBITMQ_SCHEDULE_READ_PREFETCH, (message) => this.apply(message), logger);
    this.timer = setInterval(() => {
      for (const record of this.live()) this.announce(record);
    }, RABBITMQ_GROUP_SPILL_ANNOUNCE_MS);
    this.timer.unref();
  }

  attach(model: ChannelModel): void {
    this.connection.attach(model);
  }

  detach(reason: string): void {
    this.connection.detach();
    this.log.stop(reason);
  }

  close(reason: string): void {
    clearInterval(this.timer);
    this.detach(reason);
  }

  /** Appends a record for the queue; a failure is logged (the queue is announced again while it lasts). */
  announce(record: SpillRecord): void {
    this.byQueue.set(record.queue, record);
    this.append(record).catch((error: unknown) => this.logger.warn(`Could not announce spill queue ${record.queue}: ${(error as Error).message}`));
  }

  /**
   * The spill queues of (priority, domain) read so far. The first call starts reading the stream
   * (and a call restarts a stopped reader, at most every RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS)
   * without waiting: counting never waits on a stream, which RabbitMQ 3.10 can take long to bring
   * back after a node is killed.
   */
  queuesOf(priority: Priority, domain: string): string[] {
    this.follow();
    return [...this.byQueue.values()].filter((record) => record.priority === priority && record.domain === domain).map((record) => record.queue);
  }

  /** The broker does not know the queue (drained and deleted). */
  forget(queue: string): void {
    this.byQueue.delete(queue);
  }

  private follow(): void {
    const now = performance.now();
    if (now - this.lastReadAttemptAt < RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS || !this.connection.current) return;
    this.lastReadAttemptAt = now;
    this.connection
      .ready()
      .then((model) => this.log.follow(model))
      .catch((error: unknown) => {
        // Closing or disconnected meanwhile: the next count after a reconnect reads again.
        if (this.connection.current) this.logger.warn(`Could not read ${this.names.groupSpillsLog}: ${(error as Error).message}; counting the spill queues known so far`);
      });
  }

  private apply(message: ConsumeMessage): void {
    let record: SpillRecord;
    try {
      record = JSON.parse(message.content.toString('utf8')) as SpillRecord;
    } catch (error) {
      this.logger.warn(`Skipped a record of ${this.names.groupSpillsLog} that is not a kanban spill record: ${(error as Error).message}`);
      return;
    }
    if (typeof record.queue === 'string' && typeof record.domain === 'string') this.byQueue.set(record.queue, record);
  }

  private async append({ queue, priority, domain }: SpillRecord): Promise<void> {
    await this.connection.ready();
    const stream = this.names.groupSpillsLog;
    await this.publisher.publish({ exchange: '', routingKey: stream, queue: stream }, Buffer.from(JSON.stringify({ queue, priority, domain })), { messageId: randomUUID() });
  }
}
