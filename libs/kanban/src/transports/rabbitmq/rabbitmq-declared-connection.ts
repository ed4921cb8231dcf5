import type { ChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';

/**
 * The connection a stream-backed store reads and writes through, with what it needs declared once
 * per connection before the first use (a failed declaration is tried again on the next use).
 */
export class RabbitMqDeclaredConnection {
  private model?: ChannelModel;
  private declared?: Promise<void>;

  constructor(private readonly declare: () => Promise<void>) {}

  /** The connection while attached. */
  get current(): ChannelModel | undefined {
    return this.model;
  }

  attach(model: ChannelModel): void {
    this.model = model;
    this.declared = undefined;
  }

  detach(): void {
    this.model = undefined;
    this.declared = undefined;
  }

  /**
   * The connection, once the declaration on it is done.
   * @throws BrokerUnavailableError while not connected (or when it went during the declaration); the declaration's error
   */
  async ready(): Promise<ChannelModel> {
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected; reconnecting');
    this.declared ??= this.declare().catch((error: unknown) => {
      this.declared = undefined;
      throw error;
    });
    await this.declared;
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected; reconnecting');
    return this.model;
  }
}
