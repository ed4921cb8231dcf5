import { KanbanValidationError } from '../../errors';
import type { Priority } from '../../interfaces/work-item.interface';
import { domainError, priorityError } from '../../validation/validate-publish-request';
import type { NatsTopology } from './nats-topology';

/**
 * The work queues declared on the current connection: each (priority, domain) is declared once
 * (its stream and consumer) and asked again only after `forget` (a refused or unanswered pull: it
 * may be gone) or `clear` (a reconnect: the server may have lost its store).
 */
export class NatsDeclaredQueues {
  private readonly declared = new Map<string, Promise<string>>();

  /** @param topology the connected topology; throws when there is none. */
  constructor(private readonly topology: () => NatsTopology) {}

  /**
   * Resolves to the queue's stream name once its stream and consumer exist.
   * @throws KanbanValidationError for a priority or domain that is not one (it would become a subject).
   */
  declare(priority: Priority, domain: string): Promise<string> {
    const errors = [
      { field: 'priority', message: priorityError(priority) },
      { field: 'domain', message: domainError(domain) },
    ].filter((error): error is { field: string; message: string } => error.message !== undefined);
    if (errors.length > 0) return Promise.reject(new KanbanValidationError(errors));
    const key = `${priority}:${domain}`;
    let declared = this.declared.get(key);
    if (!declared) {
      declared = Promise.resolve()
        .then(() => this.topology().ensureWorkQueue(priority, domain))
        .catch((error: unknown) => {
          this.declared.delete(key);
          throw error;
        });
      this.declared.set(key, declared);
    }
    return declared;
  }

  /**
   * Resolves to the queue's stream name once the stream exists: what a publish of an item without
   * a group needs (a queue declared whole counts).
   */
  declareStream(priority: Priority, domain: string): Promise<string> {
    const whole = this.declared.get(`${priority}:${domain}`);
    if (whole) return whole;
    const key = `stream:${priority}:${domain}`;
    let declared = this.declared.get(key);
    if (!declared) {
      declared = Promise.resolve()
        .then(() => this.topology().ensureWorkStream(priority, domain))
        .catch((error: unknown) => {
          this.declared.delete(key);
          throw error;
        });
      this.declared.set(key, declared);
    }
    return declared;
  }

  /** Resolves to the backlog stream of the queue's groups once it exists (declared on first need). */
  declareBacklog(priority: Priority, domain: string): Promise<string> {
    const key = `backlog:${priority}:${domain}`;
    let declared = this.declared.get(key);
    if (!declared) {
      declared = Promise.resolve()
        .then(() => this.topology().ensureBacklog(priority, domain))
        .catch((error: unknown) => {
          this.declared.delete(key);
          throw error;
        });
      this.declared.set(key, declared);
    }
    return declared;
  }

  forget(priority: Priority, domain: string): void {
    this.declared.delete(`${priority}:${domain}`);
    this.declared.delete(`stream:${priority}:${domain}`);
    this.declared.delete(`backlog:${priority}:${domain}`);
  }

  clear(): void {
    this.declared.clear();
  }
}
