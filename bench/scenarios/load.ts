import { setTimeout as sleep } from 'node:timers/promises';
import { benchItem, type OpenSystem } from '../systems/queue-system';

/** Which items a `publishAll` sends: numbers from `first`, each to the group `groupOf` names (none by default). */
export interface PublishPlan {
  first?: number;
  groupOf?(n: number): string | undefined;
}

/** Publishes `count` items numbered from `plan.first` (0) with `concurrency` publishes in flight; rejects on the first failure. */
export async function publishAll(system: OpenSystem, count: number, concurrency: number, plan: PublishPlan = {}): Promise<void> {
  const first = plan.first ?? 0;
  let next = first;
  const lane = async (): Promise<void> => {
    while (next < first + count) {
      const n = next++;
      await system.publish(benchItem(n), plan.groupOf?.(n));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/**
 * Publishes at a fixed rate whatever the system does (open loop): how far behind it falls shows
 * as latency, not as a slower producer. Resolves once every publish settled; counts failures.
 */
export async function publishAtRate(system: OpenSystem, ratePerSecond: number, seconds: number): Promise<{ failed: number; lastError?: string }> {
  const total = Math.round(ratePerSecond * seconds);
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let failed = 0;
  let lastError: string | undefined;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * ratePerSecond) / 1_000) + 1);
    while (sent < due) {
      const publish: Promise<void> = system.publish(benchItem(sent++)).catch((error: unknown) => {
        failed++;
        lastError = (error as Error).message;
      });
      inFlight.add(publish);
      void publish.finally(() => inFlight.delete(publish));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  return { failed, lastError };
}

/** Counts events up to a target and records the performance.now() at which the target was reached. */
export class Countdown {
  private count = 0;
  private reachedAt?: number;
  private onReached?: (at: number) => void;

  constructor(readonly target: number) {}

  increment(): void {
    if (++this.count !== this.target) return;
    this.reachedAt = performance.now();
    this.onReached?.(this.reachedAt);
  }

  /** Resolves with the time the target was reached; rejects after `timeoutMs`, saying how far it got. */
  async reached(timeoutMs: number, what: string): Promise<number> {
    if (this.reachedAt !== undefined) return this.reachedAt;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<number>((resolve, reject) => {
        this.onReached = resolve;
        timer = setTimeout(() => reject(new Error(`${what}: ${this.count} of ${this.target} after ${timeoutMs} ms`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.onReached = undefined;
    }
  }
}
