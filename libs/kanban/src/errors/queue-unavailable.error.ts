import { BrokerUnavailableError } from './broker-unavailable.error';

/**
 * The broker answers, but one queue does not for now (a JetStream stream or consumer electing its
 * leader after a cluster node died, or a call cut while the client moves to another node): the
 * broker stays in service, its status says when it is down. Try again shortly.
 */
export class QueueUnavailableError extends BrokerUnavailableError {
  /** @param queue what does not answer, as the message names it (`queue KANBAN_NORMAL_payments`). */
  constructor(broker: string, queue: string, detail: string, options?: { cause?: unknown }) {
    super(broker, `${queue} does not answer for now (${detail})`, options);
  }
}
