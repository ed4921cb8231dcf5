import type { BenchBrokers } from '../brokers/bench-brokers';

/**
 * One tiny work item (~100 bytes of JSON): its number, when it was handed to `publish`
 * (performance.now() of this process, which also consumes it) and padding.
 */
export interface BenchItem {
  n: number;
  t: number;
  pad: string;
}

export const BENCH_ITEM_PAD = 'x'.repeat(64);

export function benchItem(n: number): BenchItem {
  return { n, t: performance.now(), pad: BENCH_ITEM_PAD };
}

export interface ConsumerHooks {
  /** The handler body: runs when processing of an item starts (latency is measured here). */
  onStart(item: BenchItem): void;
  /** The item is settled (acked) as far as the system tells its user. */
  onAcked(): void;
}

/** One system opened for one measured run, on a queue of its own. */
export interface OpenSystem {
  /**
   * Resolves once the system durably accepted the item, as its publish API promises. `group` is a
   * fair-share tenant key; a system without groups (BullMQ's open-source edition, the raw clients)
   * does not take one, so its queue stays FIFO.
   */
  publish(item: BenchItem, group?: string): Promise<void>;
  /** Starts the consumers; items already queued and later ones are handed to `hooks`. */
  startConsumers(hooks: ConsumerHooks): Promise<void>;
  /** Stops consuming, closes connections and removes what the run declared where that is cheap. */
  close(): Promise<void>;
}

/** What a system needs to open: the brokers, a temp dir, and a tag unique to the run for queue names. */
export interface OpenContext {
  brokers: BenchBrokers;
  tempDir: string;
  tag: string;
}

export interface QueueSystem {
  /** Stable key in result files, e.g. `kanban-nats`. */
  readonly id: string;
  /** Shown in tables and charts. */
  readonly label: string;
  /** Why it cannot run with these brokers, or undefined when it can. */
  unavailable(brokers: BenchBrokers): string | undefined;
  open(context: OpenContext): Promise<OpenSystem>;
}

/** Thrown by `open` when the system cannot run in this checkout (a feature not built yet): it is skipped for the rest of the bench. */
export class SystemSkippedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SystemSkippedError';
  }
}
