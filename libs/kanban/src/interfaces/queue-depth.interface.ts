import type { BrokerName, Priority } from './work-item.interface';

export interface QueueDepth {
  broker: BrokerName;
  priority: Priority;
  domain: string;
  /** Waiting to be pulled (including those waiting out a retry backoff). */
  ready: number;
  /** Delivered and not yet settled. */
  inFlight: number;
}
