import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import type { FleetInstance, FleetMembership } from '../../transport/fleet-membership.interface';
import { asKanbanError } from './rabbitmq-amqp-errors';
import type { RabbitMqNames } from './rabbitmq-names';

type FleetMessage = { type: 'announce'; instance: FleetInstance } | { type: 'leave'; id: string };

/**
 * The fleet over RabbitMQ: each instance publishes its record to a fanout exchange every round
 * and reads everyone's from its own exclusive queue bound to it (gone with its connection). A
 * record counts until the member TTL after it arrived, so an instance that stopped announcing
 * (killed, partitioned) drops out; the queue's message TTL drops heartbeats that waited too long.
 * Leaving is a `leave` message the others act on at once.
 */
export class RabbitMqFleetMembership implements FleetMembership {
  private model?: ChannelModel;
  private channel?: Promise<Channel>;
  /** performance.now() until which each record counts. */
  private readonly seen = new Map<string, { instance: FleetInstance; until: number }>();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly memberTtlMs: number,
    private readonly logger: Logger,
  ) {}

  /** The transport's publishing connection opened: the channel opens on the next announcement. */
  attach(model: ChannelModel): void {
    this.model = model;
  }

  /** The connection is gone, and the channel and queue with it. */
  detach(): void {
    this.model = undefined;
    this.channel = undefined;
  }

  async announce(instance: FleetInstance): Promise<void> {
    const channel = await this.open(instance.id);
    this.publish(channel, { type: 'announce', instance });
  }

  members(): Promise<FleetInstance[]> {
    const now = performance.now();
    for (const [id, record] of this.seen) if (record.until <= now) this.seen.delete(id);
    return Promise.resolve([...this.seen.values()].map((record) => record.instance));
  }

  async leave(id: string): Promise<void> {
    const opening = this.channel;
    this.channel = undefined;
    const channel = await opening;
    this.seen.delete(id);
    if (!channel) return;
    this.publish(channel, { type: 'leave', id });
    // The leave is on its way; a channel that fails to close goes with the connection.
    await channel.close().catch((error: unknown) => this.logger.warn(`RabbitMQ fleet channel not closed after leaving: ${(error as Error).message}`));
  }

  /** The channel with this instance's queue bound and consumed, opened once per connection. */
  private open(id: string): Promise<Channel> {
    const model = this.model;
    if (!model) return Promise.reject(new BrokerUnavailableError('rabbitmq', 'not connected: the fleet cannot be announced to'));
    this.channel ??= this.declare(model, id).catch((error: unknown) => {
      this.channel = undefined;
      throw asKanbanError(error, 'joining the fleet');
    });
    return this.channel;
  }

  private async declare(model: ChannelModel, id: string): Promise<Channel> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ fleet channel error: ${error.message}`));
    channel.once('close', () => {
      if (this.model === model) this.channel = undefined;
    });
    const queue = this.names.fleetQueue(id);
    await channel.assertExchange(this.names.fleetExchange, 'fanout', { durable: true });
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-message-ttl': this.memberTtlMs } });
    await channel.bindQueue(queue, this.names.fleetExchange, '');
    await channel.consume(queue, (message) => this.onMessage(message), { noAck: true, exclusive: true });
    return channel;
  }

  /** @throws BrokerUnavailableError when the channel closed under it. */
  private publish(channel: Channel, message: FleetMessage): void {
    try {
      channel.publish(this.names.fleetExchange, '', Buffer.from(JSON.stringify(message)), { expiration: String(this.memberTtlMs) });
    } catch (error) {
      throw asKanbanError(error, `publishing a fleet ${message.type}`);
    }
  }

  /** Anyone allowed on the exchange can publish to it: what is not a fleet message is ignored. */
  private onMessage(message: ConsumeMessage | null): void {
    if (!message) return;
    let parsed: Partial<FleetMessage> | undefined;
    try {
      parsed = JSON.parse(message.content.toString('utf8')) as Partial<FleetMessage>;
    } catch {
      parsed = undefined;
    }
    if (parsed?.type === 'leave' && typeof parsed.id === 'string') this.seen.delete(parsed.id);
    else if (parsed?.type === 'announce' && typeof parsed.instance?.id === 'string') this.seen.set(parsed.instance.id, { instance: parsed.instance, until: performance.now() + this.memberTtlMs });
    else this.logger.warn('A message on the fleet exchange that is no fleet announcement was ignored');
  }
}
