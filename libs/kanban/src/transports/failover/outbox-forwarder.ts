import type { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { PublishReceipt, WorkItem } from '../../interfaces/work-item.interface';
import { FAILOVER_FORWARD_BATCH } from './failover.constants';
import type { OutboxEntry, OutboxStore } from './outbox-store';

/** Publishes an item to a broker; undefined when no broker is available. */
export type ForwardSend = (item: WorkItem) => Promise<PublishReceipt | undefined>;

/**
 * Moves outbox items to a broker, oldest first. Each round sends the next FAILOVER_FORWARD_BATCH
 * items concurrently, which keeps their order on the wire (one connection per broker), and deletes
 * an item only after a broker confirmed it: a crash in between forwards it again (at-least-once;
 * NATS folds the repeat by its Nats-Msg-Id, the item id). A round with a failure stops the run; the
 * failed items stay first in line for the next one.
 */
export class OutboxForwarder {
  private running?: Promise<void>;
  private forwardedCount = 0;
  private lastFailure?: string;

  constructor(
    private readonly store: OutboxStore,
    private readonly send: ForwardSend,
    private readonly logger: Logger,
  ) {}

  /** Items handed to a broker since start. */
  get forwarded(): number {
    return this.forwardedCount;
  }

  /** Starts a run unless one is going; resolves when it ends. */
  kick(): Promise<void> {
    this.running ??= this.run(Number.POSITIVE_INFINITY).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waits for the current run, then forwards until the outbox is empty, a round fails, or `timeoutMs` passed. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    await this.running;
    await this.run(deadline);
  }

  private async run(deadline: number): Promise<void> {
    let moved = 0;
    while (this.store.isOpen && this.store.size > 0 && performance.now() < deadline) {
      const sent = await this.round();
      moved += sent.count;
      if (!sent.complete) break;
    }
    if (moved > 0) this.logger.log(`Forwarded ${moved} outbox item(s) to a broker; ${this.store.size} left`);
  }

  private async round(): Promise<{ count: number; complete: boolean }> {
    let batch: OutboxEntry[];
    try {
      batch = this.store.oldest(FAILOVER_FORWARD_BATCH);
    } catch (error) {
      this.failed(error);
      return { count: 0, complete: false };
    }
    const results = await Promise.allSettled(batch.map((entry) => this.send(entry.item)));
    const confirmed = batch.filter((_, index) => {
      const result = results[index];
      return result.status === 'fulfilled' && result.value !== undefined;
    });
    try {
      this.store.remove(confirmed.map((entry) => entry.seq));
    } catch (error) {
      this.failed(error);
      return { count: 0, complete: false };
    }
    this.forwardedCount += confirmed.length;
    if (confirmed.length === batch.length) {
      this.lastFailure = undefined;
      return { count: confirmed.length, complete: true };
    }
    const rejection = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    this.failed(rejection ? rejection.reason : new Error('no broker is available'));
    return { count: confirmed.length, complete: false };
  }

  /** One warning per distinct failure, not one per retry. */
  private failed(error: unknown): void {
    const message = (error as Error)?.message ?? String(error);
    if (message !== this.lastFailure) this.logger.warn(`Outbox forwarding paused with ${this.store.size} item(s) left: ${message}`);
    this.lastFailure = message;
  }
}
