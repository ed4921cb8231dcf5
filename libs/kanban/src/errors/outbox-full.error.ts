import { BrokerUnavailableError } from './broker-unavailable.error';

/**
 * Neither broker took the item and the outbox is at its limit: the item was not stored. A
 * BrokerUnavailableError, so the server answers 503 as for any broker outage.
 */
export class OutboxFullError extends BrokerUnavailableError {
  constructor(
    readonly path: string,
    readonly maxItems: number,
  ) {
    super('outbox', `NATS and RabbitMQ are unavailable and the outbox at ${path} holds its limit of ${maxItems} items; retry once a broker is back`);
    this.name = OutboxFullError.name;
  }
}
