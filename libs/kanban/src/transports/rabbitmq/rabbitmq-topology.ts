import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel } from 'amqplib';
import { BrokerUnavailableError, TopologyConflictError } from '../../errors';
import type { Priority } from '../../interfaces';
import type { TransportSettings } from '../../transport';
import { AMQP_ACCESS_REFUSED, AMQP_NOT_FOUND, AMQP_PRECONDITION_FAILED, AMQP_RESOURCE_LOCKED, amqpReplyCode, amqpReplyText, asKanbanError } from './rabbitmq-amqp-errors';
import type { RabbitMqNames } from './rabbitmq-names';
import { RABBITMQ_GROUP_SPILLS_MAX_AGE, RABBITMQ_SCHEDULE_TICK_MAX_AGE, RABBITMQ_SCHEDULE_TICK_SEGMENT_BYTES, RABBITMQ_TOPOLOGY_TIMEOUT_MS } from './rabbitmq.constants';

/** RabbitMQ 4 gives quorum queues a delivery limit of 20 unless told otherwise; -1 means none (3.x reads -1 as "dead-letter on the first return"). */
const UNLIMITED_DELIVERIES_SINCE_MAJOR = 4;

/**
 * Declares what kanban needs, idempotently, on its own channel: a 406 from the broker closes that
 * channel, so it is reopened on the next call, and the conflict becomes a TopologyConflictError that
 * names the queue and the argument. Calls run one at a time so one failure cannot take a
 * concurrent declaration down with it.
 */
export class RabbitMqTopology {
  private model?: ChannelModel;
  private serverMajor = 0;
  private channel?: Promise<Channel>;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly settings: TransportSettings,
    private readonly logger: Logger,
  ) {}

  attach(model: ChannelModel): void {
    this.model = model;
    this.channel = undefined;
    this.serverMajor = Number.parseInt(String(model.connection.serverProperties.version ?? '0'), 10) || 0;
  }

  detach(): void {
    this.model = undefined;
    this.channel = undefined;
  }

  /**
   * Work queues: quorum, `x-delivery-limit` = maxAttempts − 1 (a message is dead-lettered when it
   * is returned more often than the limit, so the limit allows limit + 1 deliveries), at-least-once
   * dead-lettering (which only works with reject-publish overflow), and `x-max-length` =
   * maxQueueDepth − 1 (a quorum queue admits one message past its limit before it refuses).
   */
  workQueueArguments(): Record<string, unknown> {
    return {
      'x-queue-type': 'quorum',
      'x-delivery-limit': this.settings.maxAttempts - 1,
      'x-dead-letter-exchange': this.names.deadLetterExchange,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-max-length': this.settings.maxQueueDepth - 1,
    };
  }

  /** The exchanges, the intake queue and the delay ladder's due queue. */
  declareBase(): Promise<void> {
    return this.serialized(async (channel) => {
      await this.declareExchanges(channel);
      for (const queue of [this.names.intakeQueue, this.names.delayDueQueue]) {
        await this.declare(`queue ${queue}`, () => channel.assertQueue(queue, { durable: true, arguments: this.storeQueueArguments() }));
      }
      await this.declare(`binding ${this.names.intakeQueue}`, () => channel.bindQueue(this.names.intakeQueue, this.names.deadLetterExchange, ''));
    });
  }

  /**
   * The dead-letter log (a stream). Declared apart from the base: RabbitMQ 3.10 can take a stream
   * a long time to come back after a kill -9 of its node, and work must flow meanwhile.
   */
  declareDeadLetterLog(): Promise<void> {
    const log = this.names.deadLetterLog;
    return this.serialized((channel) => this.declare(`stream ${log}`, () => channel.assertQueue(log, { durable: true, arguments: { 'x-queue-type': 'stream' } })));
  }

  /**
   * What schedules need: the leadership queue (quorum, one active consumer, at most one waiting
   * token: a token offered while one waits is refused), the definitions stream (kept whole) and
   * the tick stream (records older than RABBITMQ_SCHEDULE_TICK_MAX_AGE may go).
   */
  declareSchedules(): Promise<void> {
    const { scheduleLeaderQueue, scheduleLog, scheduleTickLog } = this.names;
    return this.serialized(async (channel) => {
      await this.declare(`queue ${scheduleLeaderQueue}`, () =>
        channel.assertQueue(scheduleLeaderQueue, {
          durable: true,
          arguments: { ...this.storeQueueArguments(), 'x-single-active-consumer': true, 'x-max-length': 1, 'x-overflow': 'reject-publish' },
        }),
      );
      await this.declare(`stream ${scheduleLog}`, () => channel.assertQueue(scheduleLog, { durable: true, arguments: { 'x-queue-type': 'stream' } }));
      await this.declare(`stream ${scheduleTickLog}`, () =>
        channel.assertQueue(scheduleTickLog, {
          durable: true,
          arguments: { 'x-queue-type': 'stream', 'x-max-age': RABBITMQ_SCHEDULE_TICK_MAX_AGE, 'x-stream-max-segment-size-bytes': RABBITMQ_SCHEDULE_TICK_SEGMENT_BYTES },
        }),
      );
    });
  }

  /**
   * The queue, its binding, its grouped sibling (single active consumer, so one consumer at a time
   * holds and hands out its items: caps and rates are kept there), its tally of delayed items (see
   * RabbitMqDelayLadder), and the exchanges they depend on (declared again so a queue whose
   * exchange was deleted heals on the next declaration).
   * @throws TopologyConflictError when the queue exists with other arguments.
   */
  declareWorkQueue(priority: Priority, domain: string): Promise<void> {
    const queue = this.names.workQueue(priority, domain);
    return this.serialized(async (channel) => {
      await this.declareExchanges(channel);
      await this.declare(`queue ${queue}`, () => channel.assertQueue(queue, { durable: true, arguments: this.workQueueArguments() }));
      await this.declare(`binding ${queue}`, () => channel.bindQueue(queue, this.names.workExchange, this.names.routingKey(priority, domain)));
      const grouped = this.names.groupQueue(priority, domain);
      await this.declare(`queue ${grouped}`, () => channel.assertQueue(grouped, { durable: true, arguments: { ...this.workQueueArguments(), 'x-single-active-consumer': true } }));
      await this.declare(`binding ${grouped}`, () => channel.bindQueue(grouped, this.names.groupExchange, this.names.routingKey(priority, domain)));
      const tally = this.names.delayTally(priority, domain);
      await this.declare(`queue ${tally}`, () => channel.assertQueue(tally, { durable: true, arguments: this.storeQueueArguments() }));
    });
  }

  /**
   * A rung of the delay ladder: a quorum queue whose messages expire after `ttlMs` and are then
   * dead-lettered, at least once, into the due queue (through the default exchange).
   */
  declareDelayRung(ttlMs: number): Promise<void> {
    const queue = this.names.delayRung(ttlMs);
    return this.serialized(async (channel) => {
      await this.declare(`queue ${queue}`, () =>
        channel.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-message-ttl': ttlMs,
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': this.names.delayDueQueue,
            'x-dead-letter-strategy': 'at-least-once',
            'x-overflow': 'reject-publish',
          },
        }),
      );
    });
  }

  /** Ready messages in a queue (unacknowledged ones are not counted by the broker); undefined when the queue does not exist. */
  async readyCount(queue: string): Promise<number | undefined> {
    return (await this.counts(queue))?.ready;
  }

  /** Ready messages and consumers of a queue; undefined when it does not exist. */
  counts(queue: string): Promise<{ ready: number; consumers: number } | undefined> {
    return this.serialized(async (channel) => {
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        return { ready: messageCount, consumers: consumerCount };
      } catch (error) {
        if (amqpReplyCode(error) === AMQP_NOT_FOUND) return undefined;
        throw asKanbanError(error, `checking queue ${queue}`);
      }
    });
  }

  /** A spill queue of a grouped queue: the same arguments, so its items keep the grouped queue's limits and dead-lettering. */
  declareSpillQueue(queue: string): Promise<void> {
    return this.serialized((channel) =>
      this.declare(`queue ${queue}`, () => channel.assertQueue(queue, { durable: true, arguments: { ...this.workQueueArguments(), 'x-single-active-consumer': true } })),
    );
  }

  /** Whether an exclusive queue still exists: another connection holding it answers "locked". */
  exclusiveQueueExists(queue: string): Promise<boolean> {
    return this.serialized(async (channel) => {
      try {
        await channel.checkQueue(queue);
        return true;
      } catch (error) {
        const code = amqpReplyCode(error);
        if (code === AMQP_RESOURCE_LOCKED) return true;
        if (code === AMQP_NOT_FOUND) return false;
        throw asKanbanError(error, `checking queue ${queue}`);
      }
    });
  }

  deleteQueue(queue: string): Promise<void> {
    return this.serialized(async (channel) => {
      try {
        await channel.deleteQueue(queue);
      } catch (error) {
        throw asKanbanError(error, `deleting queue ${queue}`);
      }
    });
  }

  private async declareExchanges(channel: Channel): Promise<void> {
    await this.declare(`exchange ${this.names.workExchange}`, () => channel.assertExchange(this.names.workExchange, 'direct', { durable: true }));
    await this.declare(`exchange ${this.names.deadLetterExchange}`, () => channel.assertExchange(this.names.deadLetterExchange, 'fanout', { durable: true }));
    await this.declare(`exchange ${this.names.groupExchange}`, () => channel.assertExchange(this.names.groupExchange, 'direct', { durable: true }));
  }

  /** The stream of run-time group limits (kept whole: one record per change). */
  declareGroupLimits(): Promise<void> {
    const log = this.names.groupLimitsLog;
    return this.serialized((channel) => this.declare(`stream ${log}`, () => channel.assertQueue(log, { durable: true, arguments: { 'x-queue-type': 'stream' } })));
  }

  /** The stream announcing spill queues (records older than RABBITMQ_GROUP_SPILLS_MAX_AGE may go). */
  declareGroupSpills(): Promise<void> {
    const log = this.names.groupSpillsLog;
    return this.serialized((channel) =>
      this.declare(`stream ${log}`, () => channel.assertQueue(log, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': RABBITMQ_GROUP_SPILLS_MAX_AGE } })),
    );
  }

  private storeQueueArguments(): Record<string, unknown> {
    return {
      'x-queue-type': 'quorum',
      ...(this.serverMajor >= UNLIMITED_DELIVERIES_SINCE_MAJOR ? { 'x-delivery-limit': -1 } : {}),
    };
  }

  private async declare(what: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      const code = amqpReplyCode(error);
      if (code === AMQP_PRECONDITION_FAILED) {
        const conflict = new TopologyConflictError('RabbitMQ', what, amqpReplyText(error));
        this.logger.error(conflict.message);
        throw conflict;
      }
      if (code === AMQP_ACCESS_REFUSED) {
        throw new BrokerUnavailableError('rabbitmq', `access refused declaring ${what}: ${amqpReplyText(error)} (the user needs configure, write and read permissions)`);
      }
      throw asKanbanError(error, `declaring ${what}`);
    }
  }

  /**
   * One call at a time, each bounded: a broker that stops answering (SIGSTOP, network partition)
   * fails the call after RABBITMQ_TOPOLOGY_TIMEOUT_MS, and the channel it hangs on is dropped so
   * the calls behind it get a fresh one.
   */
  private serialized<T>(action: (channel: Channel) => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      const opening = this.openChannel();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (this.channel === opening) this.channel = undefined;
          opening.then((channel) => channel.close()).catch(() => undefined);
          reject(new BrokerUnavailableError('rabbitmq', `no answer to a declaration within ${RABBITMQ_TOPOLOGY_TIMEOUT_MS} ms`));
        }, RABBITMQ_TOPOLOGY_TIMEOUT_MS);
      });
      try {
        return await Promise.race([opening.then(action), timeout]);
      } catch (error) {
        throw asKanbanError(error, 'a declaration');
      } finally {
        clearTimeout(timer);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private openChannel(): Promise<Channel> {
    const model = this.model;
    if (!model) return Promise.reject(new BrokerUnavailableError('rabbitmq', 'not connected'));
    if (!this.channel) {
      const opening = model.createChannel().then((channel) => {
        // 406 and 404 replies close the channel; the error is already surfaced by the failed call.
        channel.on('error', () => undefined);
        channel.once('close', () => {
          if (this.channel === opening) this.channel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = undefined;
      });
      this.channel = opening;
    }
    return this.channel;
  }
}
