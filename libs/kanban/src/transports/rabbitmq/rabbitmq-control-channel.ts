import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { RelayUnansweredError } from '../../errors';
import type { ControlChannel, ControlHandler } from '../../transport/control-channel.interface';
import type { RabbitMqNames } from './rabbitmq-names';

/** RabbitMQ's direct reply-to pseudo-queue: answers come straight back to the asking channel, no queue declared per request. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

interface Waiting {
  holder: string;
  resolve: (answer: Uint8Array) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Relayed settles over RabbitMQ: each instance consumes an exclusive auto-delete queue of its own
 * (`kanban.relay.{holder}`, gone with its connection); a request is published to it through the
 * default exchange as mandatory, so the broker returns it at once when no instance listens, with
 * direct reply-to for the answer. One plain channel per connection carries both sides.
 */
export class RabbitMqControlChannel implements ControlChannel {
  private served?: { holder: string; handler: ControlHandler };
  private model?: ChannelModel;
  private channel?: Channel;
  private listening = false;
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly logger: Logger,
  ) {}

  serve(holder: string, handler: ControlHandler): void {
    this.served = { holder, handler };
    if (this.channel) void this.listen(this.channel);
  }

  /** Opens the channel on a new connection (the transport calls it from onConnected); a failure is logged, work goes on without relays. */
  async attach(model: ChannelModel): Promise<void> {
    this.model = model;
    try {
      const channel = await model.createChannel();
      channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ relay channel error: ${error.message}`));
      channel.on('return', (message: Message) => this.onReturned(message));
      channel.once('close', () => this.onChannelClosed(model, channel));
      await channel.consume(DIRECT_REPLY_TO, (message) => this.onAnswer(message), { noAck: true });
      this.channel = channel;
      this.listening = false;
      if (this.served) await this.listen(channel);
    } catch (error) {
      // A connection detached meanwhile (closed or lost) was already reported; the next one's attach opens the channel.
      if (this.model !== model) return;
      this.logger.error(`RabbitMQ relay channel could not be opened (${(error as Error).message}): settles of this instance's leases at other instances are refused until it reconnects`);
    }
  }

  /** The connection is gone: its channel with it. */
  detach(): void {
    this.model = undefined;
    this.dropChannel();
  }

  async request(holder: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const channel = this.channel;
    if (!channel) throw new RelayUnansweredError(holder, false, 'not connected to RabbitMQ');
    const correlationId = randomUUID();
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new RelayUnansweredError(holder, true, `no answer on RabbitMQ within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(correlationId, { holder, resolve, reject, timer });
      try {
        channel.publish('', this.names.relayQueue(holder), Buffer.from(request), { mandatory: true, replyTo: DIRECT_REPLY_TO, correlationId, expiration: String(timeoutMs) });
      } catch (error) {
        this.settleWaiting(correlationId)?.reject(new RelayUnansweredError(holder, false, `RabbitMQ publish failed: ${(error as Error).message}`));
      }
    });
  }

  private async listen(channel: Channel): Promise<void> {
    if (!this.served || this.listening) return;
    this.listening = true;
    const { holder, handler } = this.served;
    const queue = this.names.relayQueue(holder);
    try {
      await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
      await channel.consume(queue, (message) => this.onRequest(channel, handler, message), { noAck: true, exclusive: true });
    } catch (error) {
      this.listening = false;
      this.logger.error(`RabbitMQ relay queue ${queue} could not be consumed (${(error as Error).message}): settles of this instance's leases at other instances are refused`);
    }
  }

  private onRequest(channel: Channel, handler: ControlHandler, message: ConsumeMessage | null): void {
    if (!message) return;
    const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
    void handler(message.content)
      .then((answer) => {
        if (typeof replyTo !== 'string' || channel !== this.channel) return;
        channel.publish('', replyTo, Buffer.from(answer), { correlationId });
      })
      .catch((error: unknown) => this.logger.warn(`Answering a relayed settle failed: ${(error as Error).message}`));
  }

  private onAnswer(message: ConsumeMessage | null): void {
    const correlationId = message?.properties.correlationId as string | undefined;
    if (message && correlationId) this.settleWaiting(correlationId)?.resolve(message.content);
  }

  private onReturned(message: Message): void {
    const correlationId = message.properties.correlationId as string | undefined;
    const waiting = correlationId ? this.settleWaiting(correlationId) : undefined;
    waiting?.reject(new RelayUnansweredError(waiting.holder, false, 'no instance listens as it on RabbitMQ'));
  }

  /** A channel closed under a live connection (a channel error) is opened again. */
  private onChannelClosed(model: ChannelModel, channel: Channel): void {
    if (this.channel !== channel) return;
    this.dropChannel();
    if (this.model === model) void this.attach(model);
  }

  private dropChannel(): void {
    this.channel = undefined;
    this.listening = false;
    for (const [correlationId, waiting] of [...this.waiting]) {
      this.settleWaiting(correlationId);
      waiting.reject(new RelayUnansweredError(waiting.holder, true, 'the RabbitMQ connection closed before an answer'));
    }
  }

  private settleWaiting(correlationId: string): Waiting | undefined {
    const waiting = this.waiting.get(correlationId);
    if (!waiting) return undefined;
    clearTimeout(waiting.timer);
    this.waiting.delete(correlationId);
    return waiting;
  }
}
