/**
 * Which instance of a fleet does a job that must run once (schedule ticks, the stalled sweep),
 * decided by the broker (a lease it expires, a queue it deletes with a dead connection), never by
 * the instances among themselves. At most one instance holds a given lease at a time, up to the
 * clock drift inside a lease.
 */
export interface LeaseLeadership {
  /** Starts competing for the lease in the background. */
  start(): void;
  isLeader(): boolean;
  /** Grows by one each time this instance wins the lease. */
  readonly epoch: number;
  /** Stops competing and gives the lease up if held. */
  close(): Promise<void>;
}
