export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * Counts consecutive failures of one worker. At `threshold` it opens; with a cooldown it lets one
 * probe through after that long (half-open) and closes again on the probe's success.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs?: number,
  ) {}

  get state(): BreakerState {
    if (this.current === 'open' && this.cooldownMs !== undefined && performance.now() - this.openedAt >= this.cooldownMs) {
      this.current = 'half_open';
    }
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Returns true when this failure opened the breaker. */
  recordFailure(): boolean {
    this.failures++;
    const opens = this.current === 'half_open' || (this.current === 'closed' && this.failures >= this.threshold);
    if (opens) {
      this.current = 'open';
      this.openedAt = performance.now();
    }
    return opens;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.current = 'closed';
  }

  reset(): void {
    this.recordSuccess();
  }
}
