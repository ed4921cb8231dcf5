import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { KanbanEvents, type KanbanEvent } from '../events/kanban-events';
import type { CanaryResult } from './canary-result.interface';

/** Canary results kept for health output, newest last. */
export const CANARY_HISTORY = 20;

/** Follows canary items through the settle events and keeps their outcome and latency. */
@Injectable()
export class CanaryTracker implements OnModuleDestroy {
  private readonly logger = new Logger('CanaryTracker');
  private readonly byItem = new Map<string, CanaryResult>();
  private readonly subscription: Subscription;
  /** Canary publishes not yet resolved. */
  private publishing = 0;
  /**
   * Settles seen while a canary publish was unresolved: a worker can pull, run and ack the item
   * before its publish resolves (RabbitMQ confirms on one connection and delivers on another).
   */
  private readonly settledEarly = new Map<string, KanbanEvent>();

  constructor(events: KanbanEvents) {
    this.subscription = events.events$.subscribe((event) => {
      if (event.type === 'published') return;
      const canary = this.byItem.get(event.id);
      if (canary) this.settle(canary, event);
      else if (this.publishing > 0) this.settledEarly.set(event.id, event);
    });
  }

  /** Runs the canary's publish and follows the item it published, also through settles that came first. */
  async follow(publish: () => Promise<CanaryResult>): Promise<CanaryResult> {
    this.publishing++;
    try {
      const result = await publish();
      this.byItem.set(result.itemId, result);
      while (this.byItem.size > CANARY_HISTORY) this.byItem.delete(this.byItem.keys().next().value as string);
      const early = this.settledEarly.get(result.itemId);
      if (early) this.settle(result, early);
      return result;
    } finally {
      if (--this.publishing === 0) this.settledEarly.clear();
    }
  }

  private settle(canary: CanaryResult, event: KanbanEvent): void {
    if (canary.status !== 'pending') return;
    canary.status = event.type === 'acked' ? 'acked' : 'dead_lettered';
    canary.latencyMs = Date.now() - canary.publishedAt;
    if (event.type === 'dead_lettered') canary.error = `${event.reason}${event.error ? `: ${event.error}` : ''}`;
    this.logger.log(`Canary ${canary.jobId} on ${canary.domain}: ${canary.status} in ${canary.latencyMs} ms`);
  }

  results(): CanaryResult[] {
    return [...this.byItem.values()].map((r) => ({ ...r }));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }
}
