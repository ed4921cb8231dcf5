import type { Priority, WorkItem } from './work-item.interface';

/**
 * Identifies one delivery of an item. `lease` fences it: once the lease lapsed and the item was
 * delivered again or dead-lettered, settling with the old lease throws `LeaseExpiredError`.
 */
export interface LeaseRef {
  id: string;
  domain: string;
  priority: Priority;
  lease: string;
}

/** A delivery handed out by `pull`. */
export interface Delivery extends LeaseRef {
  item: WorkItem;
  /** Epoch ms estimate of when the lease lapses (informational: leases run on a monotonic clock). */
  leaseExpiresAt: number;
}

/** A message on a kanban subject that could not be decoded; the queue dead-letters it as `malformed`. */
export interface MalformedDelivery extends LeaseRef {
  malformed: true;
  /** Base64 of the message bytes. */
  raw: string;
  error: string;
  attempts: number;
}

export type TransportDelivery = Delivery | MalformedDelivery;

/** Which queue to pull from: one (priority, domain), or a whole domain strictly high → normal → low. */
export interface QueueRef {
  domain: string;
  priority?: Priority;
}

export interface PullOptions {
  /** Lease length; the item is redelivered when it lapses unsettled. */
  leaseMs: number;
  /** How long to wait for the first item when the queue is empty. 0 = do not wait. */
  waitMs: number;
  /** Aborts the wait early (worker stopping); items already pulled are still returned. */
  signal?: AbortSignal;
}

export function isMalformed(delivery: TransportDelivery): delivery is MalformedDelivery {
  return (delivery as MalformedDelivery).malformed === true;
}
