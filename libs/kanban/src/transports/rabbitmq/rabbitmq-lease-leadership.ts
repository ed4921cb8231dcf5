import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel } from 'amqplib';
import type { LeaseLeadership } from '../../transport/lease-leadership.interface';
import { AMQP_RESOURCE_LOCKED, amqpReplyCode } from './rabbitmq-amqp-errors';
import { RABBITMQ_LEADER_ATTEMPTS_PER_LEASE } from './rabbitmq.constants';

/**
 * A leadership lease as an exclusive queue: the broker lets one connection at a time declare it
 * (the others get RESOURCE_LOCKED) and deletes it when that connection dies (closed socket, missed
 * heartbeats), so the leader is whoever holds it. The others try again `RABBITMQ_LEADER_ATTEMPTS_PER_LEASE`
 * times per lease, so a killed leader is replaced within one lease.
 */
export class RabbitMqLeaseLeadership implements LeaseLeadership {
  epoch = 0;
  private model?: ChannelModel;
  /** The channel that declared the queue, while this instance holds it. */
  private holding?: Channel;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private started = false;
  private closed = false;
  private readonly retryMs: number;

  constructor(
    private readonly queue: string,
    /** 'Coordinator leadership', for log lines. */
    private readonly label: string,
    leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.retryMs = Math.max(1, Math.floor(leaseMs / RABBITMQ_LEADER_ATTEMPTS_PER_LEASE));
  }

  /** The transport's publishing connection opened: the next attempt declares on it. */
  attach(model: ChannelModel): void {
    this.model = model;
  }

  /** The connection is gone, and the queue with it. */
  detach(): void {
    this.model = undefined;
    this.holding = undefined;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.holding !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
    const channel = this.holding;
    this.holding = undefined;
    if (!channel) return;
    try {
      // Handing over at once instead of when the connection closes.
      await channel.deleteQueue(this.queue);
      await channel.close();
    } catch (error) {
      this.logger.warn(`${this.label} not released (it goes with the connection): ${(error as Error).message}`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.round = this.compete().finally(() => this.schedule(this.retryMs));
    }, delayMs);
  }

  private async compete(): Promise<void> {
    const model = this.model;
    if (this.holding || !model) return;
    let channel: Channel | undefined;
    try {
      channel = await model.createChannel();
      // A refusal comes back as the rejected declare below; the channel's 'error' event only repeats it.
      channel.on('error', () => undefined);
      await channel.assertQueue(this.queue, { exclusive: true, autoDelete: false, durable: false });
    } catch (error) {
      // Another instance holds it: the broker closed our channel with RESOURCE_LOCKED.
      if (amqpReplyCode(error) !== AMQP_RESOURCE_LOCKED) this.logger.warn(`${this.label} attempt failed: ${(error as Error).message}`);
      // The broker closed the channel with its refusal; one left open by a failed call is closed here.
      await channel?.close().catch(() => undefined);
      return;
    }
    const held = channel;
    held.once('close', () => {
      if (this.holding !== held) return;
      this.holding = undefined;
      this.logger.warn(`${this.label} lost: its channel closed`);
    });
    this.holding = held;
    this.epoch++;
    this.logger.log(`${this.label} taken`);
  }
}
