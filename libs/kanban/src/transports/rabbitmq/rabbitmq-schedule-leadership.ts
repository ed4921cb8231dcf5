import { Logger } from '@nestjs/common';
import type { Channel, ChannelModel } from 'amqplib';
import { newItemId } from '../../codec/item-id';
import { BrokerUnavailableError, QueueFullError } from '../../errors';
import type { ScheduleLeadership } from '../../scheduler/schedule-coordination.interface';
import { asKanbanError } from './rabbitmq-amqp-errors';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import { RABBITMQ_CONSUME_TIMEOUT_MS, RABBITMQ_SCHEDULE_LEADER_ROUND_MS } from './rabbitmq.constants';

const EMPTY = Buffer.alloc(0);

/**
 * Schedule leadership decided by RabbitMQ: every instance consumes the quorum queue
 * `kanban.schedule-leader`, declared with `x-single-active-consumer`, so the broker delivers to one
 * consumer at a time. The queue holds a token message; the active consumer receives it (prefetch 1)
 * and keeps it unacknowledged, and holding it is being the leader. When the holder's channel or
 * connection goes (close, kill -9: the kernel closes the socket and the broker sees it at once; a
 * lost host: after two missed heartbeats), the broker requeues the token and makes the next
 * consumer active, which receives it: no lease to wait out and no clock involved. The transport
 * attaches it to its publishing connection, so once the broker dropped the holder's connection
 * nothing the old leader publishes is accepted. Instances offer
 * a token now and then while they do not lead; the queue keeps at most one waiting (reject-publish),
 * so a token lost to a purge is replaced and extra ones stay queued behind the held one.
 */
export class RabbitMqScheduleLeadership implements ScheduleLeadership {
  private readonly logger = new Logger('ScheduleLeadership');
  private readonly id = newItemId();
  private model?: ChannelModel;
  /** The channel consuming the leadership queue, while it does. */
  private channel?: Channel;
  /** The token delivery this instance holds while it leads. */
  private holding = false;
  private competing = false;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  /** Only the first failed round of a streak is logged, not one every round while the broker is away. */
  private failing = false;
  epoch = 0;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly publisher: RabbitMqPublisher,
    private readonly declare: () => Promise<void>,
  ) {}

  /** A new publishing connection (the leader publishes ticks on the connection that holds the token): competing instances join again at once. */
  attach(model: ChannelModel): void {
    this.model = model;
    if (this.competing) this.next(0);
  }

  /** The connection is gone, and with it the channel and the token: the broker gave it to another consumer. */
  detach(): void {
    this.model = undefined;
    this.lose(this.channel, 'the connection to RabbitMQ was lost');
  }

  start(): void {
    this.competing = true;
    this.next(0);
  }

  isLeader(): boolean {
    return this.holding;
  }

  /** Closing the channel hands the token to the next consumer at once. */
  async close(): Promise<void> {
    this.competing = false;
    clearTimeout(this.timer);
    await this.round;
    const channel = this.channel;
    if (this.holding) this.logger.log(`Schedule leadership handed over by ${this.id}`);
    this.lose(channel);
    await channel?.close().catch(() => undefined);
  }

  private next(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.competing) return;
    this.timer = setTimeout(() => {
      this.round = this.compete().finally(() => this.next(RABBITMQ_SCHEDULE_LEADER_ROUND_MS));
    }, delayMs);
  }

  /** Joins the queue when not consuming it, and offers a token when not leading. */
  private async compete(): Promise<void> {
    const model = this.model;
    if (!model) return;
    try {
      if (!this.channel) await this.join(model);
      if (!this.holding) await this.offerToken();
      if (this.failing) this.logger.log('Schedule leadership rounds succeed again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Schedule leadership rounds failing, retrying every ${RABBITMQ_SCHEDULE_LEADER_ROUND_MS} ms: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  private async join(model: ChannelModel): Promise<void> {
    await this.declare();
    const queue = this.names.scheduleLeaderQueue;
    const channel = await model.createChannel().catch((error: unknown) => {
      throw asKanbanError(error, `opening a channel for ${queue}`);
    });
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ channel of ${queue}: ${error.message}`));
    channel.once('close', () => this.lose(channel, `the channel consuming ${queue} closed`));
    this.channel = channel;
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BrokerUnavailableError('rabbitmq', `queue ${queue} did not answer basic.consume within ${RABBITMQ_CONSUME_TIMEOUT_MS} ms`)), RABBITMQ_CONSUME_TIMEOUT_MS);
    });
    try {
      await channel.prefetch(1);
      const consuming = channel.consume(
        queue,
        (message) => {
          if (!message) return void channel.close().catch(() => undefined);
          if (this.channel !== channel || this.holding) return;
          this.holding = true;
          this.epoch++;
          this.logger.log(`Schedule leadership taken by ${this.id}`);
        },
        { noAck: false },
      );
      await Promise.race([consuming, unanswered]);
    } catch (error) {
      this.lose(channel);
      await channel.close().catch(() => undefined);
      throw asKanbanError(error, `consuming ${queue}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A refusal means a token is waiting already. */
  private async offerToken(): Promise<void> {
    const queue = this.names.scheduleLeaderQueue;
    try {
      await this.publisher.publish({ exchange: '', routingKey: queue, queue }, EMPTY, { messageId: newItemId() });
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
    }
  }

  /** Forgets `channel` (when it is still the current one) and the token held on it. */
  private lose(channel: Channel | undefined, why?: string): void {
    if (!channel || this.channel !== channel) return;
    this.channel = undefined;
    if (this.holding && why) this.logger.warn(`Schedule leadership lost by ${this.id}: ${why}`);
    this.holding = false;
    if (why) this.next(0);
  }
}
