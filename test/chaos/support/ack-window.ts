import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import type { KanbanEvents } from '../../../libs/kanban/src';
import { ACK_IN_FLIGHT_WINDOW_MS } from '../../failover/support/duplicates';

/**
 * When each ack of a domain landed (performance.now()), from the app's KanbanEvents. An ack that
 * landed just before a kill -9 or SIGSTOP may not have been applied by the broker, so it counts as
 * in flight at the fault, like a delivery a worker still held.
 */
export class AckWindow {
  private readonly times: number[] = [];
  private readonly subscription: Subscription;

  constructor(events: KanbanEvents, domain: string) {
    this.subscription = events.events$.subscribe((event) => {
      if (event.type === 'acked' && event.domain === domain) this.times.push(performance.now());
    });
  }

  /** Acks that landed in the ACK_IN_FLIGHT_WINDOW_MS before `at`. */
  ackedJustBefore(at: number): number {
    const since = at - ACK_IN_FLIGHT_WINDOW_MS;
    let count = 0;
    for (let i = this.times.length - 1; i >= 0 && this.times[i] >= since; i--) if (this.times[i] <= at) count++;
    return count;
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}
