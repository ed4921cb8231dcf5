import type { Priority, QueueRef } from '../../interfaces';
import { EMBEDDED_MAX_TIMER_MS } from './embedded.constants';

interface Waiter {
  queue: QueueRef;
  wake: () => void;
}

/** Pulls waiting for work in this process, woken by publishes and retries instead of polling the file. */
export class EmbeddedPullWaiters {
  private readonly waiters = new Set<Waiter>();

  /** Resolves on a matching `notify`, after `timeoutMs`, when `signal` aborts, or on `wakeAll`. */
  wait(queue: QueueRef, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        this.waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { queue, wake };
      const timer = setTimeout(wake, Math.min(timeoutMs, EMBEDDED_MAX_TIMER_MS));
      signal?.addEventListener('abort', wake, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Wakes the pulls that could take work from the (priority, domain) queue. */
  notify(priority: Priority, domain: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.queue.domain === domain && (waiter.queue.priority === undefined || waiter.queue.priority === priority)) waiter.wake();
    }
  }

  /** Wakes every pull of the domain, whatever its priority. */
  notifyDomain(domain: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.queue.domain === domain) waiter.wake();
    }
  }

  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }
}
