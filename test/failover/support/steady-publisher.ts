import { performance } from 'node:perf_hooks';
import type { PublishReceipt } from '../../../libs/kanban/src';
import type { Ledger } from '../../ledger/ledger';

/** Timer step of the publisher: each step launches the publishes that fell due. */
const STEP_MS = 10;

export interface TimedReceipt {
  key: string;
  startedAt: number;
  resolvedAt: number;
  broker: string;
}

/**
 * Publishes `count` items at `ratePerSecond`, each as soon as it is due (never more than
 * `maxInFlight` unresolved), recording every attempt, receipt and refusal in the ledger. Times are
 * performance.now() values.
 */
export class SteadyPublisher {
  readonly receipts: TimedReceipt[] = [];
  private launchedCount = 0;
  private inFlight = 0;
  private stopped = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly publish: (key: string) => Promise<PublishReceipt>,
    private readonly options: { count: number; ratePerSecond: number; maxInFlight: number; keyPrefix: string },
  ) {}

  get launched(): number {
    return this.launchedCount;
  }

  /** Resolves once every publish launched has resolved or rejected. */
  async run(): Promise<void> {
    const { count, ratePerSecond, maxInFlight } = this.options;
    const startedAt = performance.now();
    const pending = new Set<Promise<void>>();
    while (this.launchedCount < count && !this.stopped) {
      const due = Math.min(count, Math.floor(((performance.now() - startedAt) * ratePerSecond) / 1_000));
      while (this.launchedCount < due && this.inFlight < maxInFlight) {
        const publishing = this.publishOne(`${this.options.keyPrefix}-${this.launchedCount++}`);
        pending.add(publishing);
        void publishing.finally(() => pending.delete(publishing));
      }
      await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    }
    await Promise.all(pending);
  }

  stop(): void {
    this.stopped = true;
  }

  /** The first receipt from `broker` that resolved at or after `since`; undefined if none. */
  firstFrom(broker: string, since: number): TimedReceipt | undefined {
    return this.receipts.filter((receipt) => receipt.broker === broker && receipt.resolvedAt >= since).sort((a, b) => a.resolvedAt - b.resolvedAt)[0];
  }

  private async publishOne(key: string): Promise<void> {
    this.inFlight++;
    this.ledger.attempt(key);
    const startedAt = performance.now();
    try {
      const receipt = await this.publish(key);
      this.ledger.acknowledge(key, receipt.broker);
      this.receipts.push({ key, startedAt, resolvedAt: performance.now(), broker: receipt.broker });
    } catch (error) {
      this.ledger.reject(key, (error as Error).name);
    } finally {
      this.inFlight--;
    }
  }
}
