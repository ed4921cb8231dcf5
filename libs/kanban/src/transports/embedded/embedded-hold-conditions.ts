// "Held" = leased or waiting out a retry delay, under this boot's monotonic clock. Anything held
// under another boot is free: the process whose clock it was measured on is gone.
// Each condition reads the parameters @boot, @now (performance.now()) and, for EXHAUSTED, @maxAttempts.
export const NOT_HELD = '(boot IS NULL OR boot <> @boot OR hold_until <= @now)';
export const HELD = '(boot = @boot AND hold_until > @now)';
/** A lease that lapsed on the last attempt is never handed out again: the stall sweep dead-letters it. */
export const EXHAUSTED = '(lease IS NOT NULL AND attempts >= @maxAttempts)';

/** The parameters the conditions read. */
export interface HoldClock {
  boot: string;
  now: number;
  maxAttempts: number;
}
