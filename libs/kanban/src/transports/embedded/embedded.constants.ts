/** How long a statement waits for another connection's write lock before failing (better-sqlite3 `timeout`). */
export const EMBEDDED_BUSY_TIMEOUT_MS = 5_000;
/** Retry-After given with QueueFullError: a worker pass usually frees room within this time. */
export const EMBEDDED_QUEUE_FULL_RETRY_AFTER_MS = 1_000;
/** Expired idempotency keys are pruned at most this often, so pruning never rides on every publish. */
export const EMBEDDED_DEDUP_PRUNE_INTERVAL_MS = 10_000;
/** Added to a wake-up timer: Node timers may fire a little before performance.now() reaches the target. */
export const EMBEDDED_TIMER_SLACK_MS = 1;
/** Longest delay setTimeout honours; anything longer fires at once, so waits are capped here. */
export const EMBEDDED_MAX_TIMER_MS = 2 ** 31 - 1;
/** Groups read per step while a pull looks for the next group to serve (they are read in round-robin order). */
export const EMBEDDED_GROUP_CANDIDATES_PER_READ = 32;
/**
 * A rate-limited group's next token may be taken this much early (capped at half its interval), so
 * the timer latency of a waiting pull does not pull the rate below the limit; a burst stays one item.
 */
export const EMBEDDED_GROUP_RATE_TOLERANCE_MS = 10;
/** Spent rate states (their next token already due) are pruned at most this often. */
export const EMBEDDED_GROUP_RATE_PRUNE_INTERVAL_MS = 60_000;
/** Groups per listGroups page when the filter sets no limit. */
export const EMBEDDED_GROUP_LIST_DEFAULT_LIMIT = 100;
