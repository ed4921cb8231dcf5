import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerUnavailableError, QueueFullError } from '../../errors';
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
  /** Returned (unroutable) messages not yet matched to their confirm, by exchange, routing key and id. */
  private readonly returned = new Map<string, number>();

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  attach(model: ChannelModel): void {
    this.model = model;
    this.channel = undefined;
  }

  detach(): void {
    this.model = undefined;
    this.channel = undefined;
    this.returned.clear();
  }

  /**
   * @throws QueueFullError when the queue refused the message (nack).
   * @throws BrokerUnavailableError when it was unroutable, not confirmed in time, or the connection is down.
   */
  async publish(target: PublishTarget, body: Buffer, properties: PublishProperties): Promise<void> {
    const options: Options.Publish = {
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: properties.messageId,
      timestamp: Math.floor(Date.now() / 1_000),
      headers: properties.headers,
    };
    const key = returnKey(target.exchange, target.routingKey, properties.messageId);
    // The bound covers opening the channel too: a frozen broker answers neither.
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        settle(new BrokerUnavailableError('rabbitmq', `publish of ${properties.messageId} to ${target.queue} was not confirmed within ${this.timeoutMs} ms; its outcome is unknown`));
      }, this.timeoutMs);
      const onConfirm = (error: unknown): void => {
        if (this.takeReturn(key)) {
          settle(new BrokerUnavailableError('rabbitmq', `message ${properties.messageId} was unroutable: no queue is bound to ${target.routingKey} on exchange '${target.exchange}' (queue ${target.queue} missing?)`));
        } else if (!error) {
          settle();
        } else if (isPublisherNack(error)) {
          settle(new QueueFullError(target.queue, RABBITMQ_QUEUE_FULL_RETRY_AFTER_MS, 'RabbitMQ refused the message (x-overflow reject-publish)'));
        } else {
          settle(new BrokerUnavailableError('rabbitmq', `channel closed before the broker confirmed ${properties.messageId}; its outcome is unknown`));
        }
      };
      this.confirmChannel().then(
        (channel) => {
          if (settled) return;
          try {
            channel.publish(target.exchange, target.routingKey, body, options, onConfirm);
          } catch (error) {
            settle(new BrokerUnavailableError('rabbitmq', `cannot publish ${properties.messageId}: ${(error as Error).message}`));
          }
        },
        (error: Error) => settle(error),
      );
    });
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
          if (this.channel !== opening) return;
          this.channel = undefined;
          // Every publish awaiting a confirm on it was rejected; their returns are moot.
          this.returned.clear();
        });
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

function returnKey(exchange: string, routingKey: string, messageId: string): string {
  return `${exchange}\u0000${routingKey}\u0000${messageId}`;
}
