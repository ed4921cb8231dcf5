/** Longest delay a client may ask before a retried item is handed out again (one day). */
export const MAX_RETRY_DELAY_MS = 86_400_000;
/** Longest lease a client may ask for when extending (one hour); extend again to hold longer. */
export const MAX_LEASE_MS = 3_600_000;
/** Longest reason a nack may carry into the dead-letter queue. */
export const MAX_NACK_REASON_LENGTH = 1024;
/** Longest error a retry may carry into the dead-letter queue when it was the last attempt. */
export const MAX_RETRY_ERROR_LENGTH = 1024;
