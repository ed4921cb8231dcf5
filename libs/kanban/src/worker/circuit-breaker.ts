export type BreakerState = 'closed' | 'open' | 'half_open';

/** Item ids a breaker that never opens keeps to tell retries from new failures: a streak of failures must not grow memory without end. */
const NEVER_OPEN_TRACKED_ITEMS = 1_000;

/**
 * Counts the distinct items that failed one after another on one worker: one poison item retried
 * up to maxAttempts is one failure, not a broken downstream. At `threshold` it opens; after
 * `cooldownMs` it lets one probe through (half-open) and closes again on the probe's success.
 * With an infinite threshold it never opens and only counts.
 */
export class CircuitBreaker {
  /** Ids of the items that failed since the last success; cleared on success, so never more than a streak. */
  private readonly failedItems = new Set<string>();
  private streak = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';

  constructor(
    private readonly threshold: number,
    readonly cooldownMs: number,
  ) {}

  get state(): BreakerState {
    if (this.current === 'open' && performance.now() - this.openedAt >= this.cooldownMs) {
      this.current = 'half_open';
    }
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.streak;
  }

  /** Returns true when this failure opened the breaker. */
  recordFailure(itemId: string): boolean {
    if (!this.failedItems.has(itemId)) {
      this.streak++;
      if (Number.isFinite(this.threshold) || this.failedItems.size < NEVER_OPEN_TRACKED_ITEMS) this.failedItems.add(itemId);
    }
    const opens = this.current === 'half_open' || (this.current === 'closed' && this.streak >= this.threshold);
    if (opens) {
      this.current = 'open';
      this.openedAt = performance.now();
    }
    return opens;
  }

  recordSuccess(): void {
    this.failedItems.clear();
    this.streak = 0;
    this.current = 'closed';
  }

  reset(): void {
    this.recordSuccess();
  }
}
