/** Leadership lease: after a leader dies, another instance fires within this plus one interval. */
export const DEFAULT_SCHEDULE_LEASE_MS = 3_000;
/** How often each instance reads the stored schedules, so one created or cancelled elsewhere shows here. */
export const SCHEDULE_SYNC_INTERVAL_MS = 1_000;
/** Most missed ticks a `catchUp: 'all'` schedule publishes after an outage; older ones are skipped and logged. */
export const MAX_CATCH_UP_TICKS = 100;
/** setTimeout's longest delay; a later cron tick is reached in steps. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** Registry name of the store sync interval; schedule names cannot contain '/'. */
export const SCHEDULE_SYNC_JOB = 'kanban/schedule-sync';
