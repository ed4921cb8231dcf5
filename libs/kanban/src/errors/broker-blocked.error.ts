import { BrokerUnavailableError } from './broker-unavailable.error';

/**
 * The broker refuses publishes for now (a RabbitMQ memory or disk alarm) but still delivers and
 * takes acks: draining its queues is what clears the alarm. Publish elsewhere or later.
 */
export class BrokerBlockedError extends BrokerUnavailableError {
  constructor(broker: string, detail: string, options?: { cause?: unknown }) {
    super(broker, `publishing is blocked: ${detail}`, options);
  }
}
