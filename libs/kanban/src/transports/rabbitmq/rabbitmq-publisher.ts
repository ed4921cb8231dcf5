import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerBlockedError, BrokerUnavailableError, QueueFullError } from '../../errors';
import { asKanbanError, isPublisherNack } from './rabbitmq-amqp-errors';
import { RABBITMQ_QUEUE_FULL_RETRY_AFTER_MS } from './rabbitmq.constants';

export interface PublishTarget {
  exchange: string;
  routingKey: string;
  /** Queue the message is meant for, named in QueueFullError. */
  queue: string;
}

export interface PublishProperties {
  messageId: string;
  headers?: Record<string, unknown>;
}

/**
 * Publishes on one confirm channel: persistent, `mandatory`, resolved only by the broker's confirm.
 * A nack means the queue refused the message (x-overflow reject-publish: full); a return means no
 * queue was bound; no confirm within the timeout, or a channel that closes first, means the outcome
 * is unknown. Each of those rejects with a typed error; nothing is dropped silently.
 */
export class RabbitMqPublisher {
  private model?: ChannelModel;
  private channel?: Promise<ConfirmChannel>;
  /** The confirm channel once open (and until it closes): publishes go out on it at once. */
  private open?: ConfirmChannel;
  /** Publishes awaiting the broker's confirm, oldest first. */
  private readonly pending = new Set<PendingPublish>();
  private timer?: NodeJS.Timeout;
  private timerAt = 0;
  /** Returned (unroutable) messages not yet matched to their confirm, by exchange, routing key and id. */
  private readonly returned = new Map<string, number>();
  /** The broker's resource alarm while it blocks this connection: publishes are refused at once. */
  private blockedBy?: string;

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  attach(model: ChannelModel): void {
    this.model = model;
    this.channel = undefined;
    this.open = undefined;
  }

  detach(): void {
    this.model = undefined;
    this.blockedBy = undefined;
    this.channel = undefined;
    this.open = undefined;
    this.returned.clear();
  }

  /**
   * The broker stopped reading from the connection (resource alarm): publishes awaiting a confirm
   * fail now rather than at their timeout (outcome unknown: the broker may have read them first),
   * and new ones are refused until `unblock`.
   */
  block(reason: string): void {
    this.blockedBy = reason;
    for (const pending of [...this.pending]) {
      this.settle(pending, new BrokerBlockedError('rabbitmq', `${reason}; publish of ${pending.messageId} to ${pending.target.queue} has an unknown outcome`));
    }
  }

  unblock(): void {
    this.blockedBy = undefined;
  }

  /**
   * @throws BrokerBlockedError while the broker blocks publishing (resource alarm).
   * @throws QueueFullError when the queue refused the message (nack).
   * @throws BrokerUnavailableError when it was unroutable, not confirmed in time, or the connection is down.
   */
  publish(target: PublishTarget, body: Buffer, properties: PublishProperties): Promise<void> {
    if (this.blockedBy) return Promise.reject(new BrokerBlockedError('rabbitmq', `${this.blockedBy}; ${properties.messageId} was not sent to ${target.queue}`));
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = { settled: false, deadline: performance.now() + this.timeoutMs, target, messageId: properties.messageId, resolve, reject };
      this.pending.add(pending);
      this.armTimeout(pending.deadline);
      // The bound covers opening the channel too: a frozen broker answers neither.
      if (this.open) this.send(this.open, pending, body, properties);
      else {
        this.confirmChannel().then(
          (channel) => this.send(channel, pending, body, properties),
          (error: Error) => this.settle(pending, error),
        );
      }
    });
  }

  private send(channel: ConfirmChannel, pending: PendingPublish, body: Buffer, properties: PublishProperties): void {
    if (pending.settled) return;
    const { target } = pending;
    pending.channel = channel;
    const options: Options.Publish = {
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: properties.messageId,
      timestamp: Math.floor(Date.now() / 1_000),
      headers: properties.headers,
    };
    try {
      channel.publish(target.exchange, target.routingKey, body, options, (error: unknown) => this.onConfirm(pending, error));
    } catch (error) {
      this.settle(pending, new BrokerUnavailableError('rabbitmq', `cannot publish ${properties.messageId}: ${(error as Error).message}`));
    }
  }

  private onConfirm(pending: PendingPublish, error: unknown): void {
    const { target, messageId } = pending;
    if (this.returned.size > 0 && this.takeReturn(returnKey(target.exchange, target.routingKey, messageId))) {
      this.settle(
        pending,
        new BrokerUnavailableError('rabbitmq', `message ${messageId} was unroutable: no queue is bound to ${target.routingKey} on exchange '${target.exchange}' (queue ${target.queue} missing?)`),
      );
    } else if (!error) {
      this.settle(pending);
    } else if (isPublisherNack(error)) {
      this.settle(pending, new QueueFullError(target.queue, RABBITMQ_QUEUE_FULL_RETRY_AFTER_MS, 'RabbitMQ refused the message (x-overflow reject-publish)'));
    } else {
      this.settle(pending, new BrokerUnavailableError('rabbitmq', `channel closed before the broker confirmed ${messageId}; its outcome is unknown`));
    }
  }

  private settle(pending: PendingPublish, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    this.pending.delete(pending);
    if (error) pending.reject(error);
    else pending.resolve();
  }

  /**
   * One timer for every publish awaiting its confirm, armed for the earliest deadline. Publishes share
   * one timeout, so deadlines come in the order of `pending` (a Set keeps insertion order) and a
   * firing only looks at the oldest ones.
   */
  private armTimeout(deadline: number): void {
    if (this.timer && deadline >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - performance.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    let stuck = false;
    for (const pending of this.pending) {
      if (pending.deadline > now) {
        this.armTimeout(pending.deadline);
        break;
      }
      stuck ||= pending.channel !== undefined && pending.channel === this.open;
      this.settle(pending, new BrokerUnavailableError('rabbitmq', `publish of ${pending.messageId} to ${pending.target.queue} was not confirmed within ${this.timeoutMs} ms; its outcome is unknown`));
    }
    if (stuck) this.abandonChannel();
  }

  /**
   * A publish the broker did not confirm in time may have left its channel stuck: a quorum queue
   * without a leader holds up every later confirm on the channel it was published on, whatever the
   * queue. Later publishes go out on a new channel; the old one is closed without waiting for it.
   */
  private abandonChannel(): void {
    const channel = this.open;
    this.channel = undefined;
    this.open = undefined;
    this.returned.clear();
    if (channel)
      Promise.resolve()
        .then(() => channel.close())
        .catch(() => undefined);
  }

  private confirmChannel(): Promise<ConfirmChannel> {
    const model = this.model;
    if (!model) return Promise.reject(new BrokerUnavailableError('rabbitmq', 'not connected'));
    if (!this.channel) {
      const opening = model.createConfirmChannel().then((channel) => {
        channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ publish channel error: ${error.message}`));
        // The broker sends basic.return before the confirm of the same message, so the confirm callback can look it up.
        channel.on('return', (message: Message) => this.recordReturn(message));
        channel.once('close', () => {
          if (this.open === channel) this.open = undefined;
          if (this.channel !== opening) return;
          this.channel = undefined;
          // Every publish awaiting a confirm on it was rejected; their returns are moot.
          this.returned.clear();
        });
        if (this.channel === opening) this.open = channel;
        return channel;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = undefined;
      });
      this.channel = opening;
    }
    return this.channel.catch((error: unknown) => {
      throw asKanbanError(error, 'opening a publish channel');
    });
  }

  private recordReturn(message: Message): void {
    const key = returnKey(message.fields.exchange, message.fields.routingKey, String(message.properties.messageId ?? ''));
    this.returned.set(key, (this.returned.get(key) ?? 0) + 1);
  }

  private takeReturn(key: string): boolean {
    const count = this.returned.get(key);
    if (!count) return false;
    if (count === 1) this.returned.delete(key);
    else this.returned.set(key, count - 1);
    return true;
  }
}

interface PendingPublish {
  settled: boolean;
  /** performance.now() after which its outcome is reported unknown. */
  deadline: number;
  target: PublishTarget;
  messageId: string;
  /** The channel it went out on, once sent. */
  channel?: ConfirmChannel;
  resolve: () => void;
  reject: (error: Error) => void;
}

function returnKey(exchange: string, routingKey: string, messageId: string): string {
  return `${exchange}\u0000${routingKey}\u0000${messageId}`;
}
