import { KanbanError } from './kanban.error';

/** The broker did not take the item (down, timed out, or refused); the item was not stored. */
export class BrokerUnavailableError extends KanbanError {
  constructor(broker: string, detail: string, options?: { cause?: unknown }) {
    super(`Broker ${broker} is unavailable: ${detail}`, { broker }, options);
  }
}
