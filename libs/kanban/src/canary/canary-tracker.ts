import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { KanbanEvents } from '../events/kanban-events';
import type { CanaryResult } from './canary-result.interface';

/** Canary results kept for health output, newest last. */
export const CANARY_HISTORY = 20;

/** Follows canary items through the settle events and keeps their outcome and latency. */
@Injectable()
export class CanaryTracker implements OnModuleDestroy {
  private readonly logger = new Logger('CanaryTracker');
  private readonly byItem = new Map<string, CanaryResult>();
  private readonly subscription: Subscription;

  constructor(events: KanbanEvents) {
    this.subscription = events.events$.subscribe((event) => {
      const canary = this.byItem.get(event.id);
      if (!canary || canary.status !== 'pending' || event.type === 'published') return;
      canary.status = event.type === 'acked' ? 'acked' : 'dead_lettered';
      canary.latencyMs = Date.now() - canary.publishedAt;
      if (event.type === 'dead_lettered') canary.error = `${event.reason}${event.error ? `: ${event.error}` : ''}`;
      this.logger.log(`Canary ${canary.jobId} on ${canary.domain}: ${canary.status} in ${canary.latencyMs} ms`);
    });
  }

  track(result: CanaryResult): void {
    this.byItem.set(result.itemId, result);
    while (this.byItem.size > CANARY_HISTORY) this.byItem.delete(this.byItem.keys().next().value as string);
  }

  results(): CanaryResult[] {
    return [...this.byItem.values()].map((r) => ({ ...r }));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }
}
