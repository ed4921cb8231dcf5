import { Injectable } from '@nestjs/common';
import type { Delivery } from '@tps/kanban';

/** Beyond this many unsettled hand-outs the oldest are forgotten (their acks then count without a latency). */
export const HANDED_OUT_MAX = 100_000;

interface HandedOut {
  publishedAt: number;
  /** Epoch ms after which the lease has lapsed and no ack can land. */
  expiresAt: number;
}

/**
 * When each item this server handed out over HTTP was published, by lease, so an HTTP ack records
 * its publish-to-ack latency in `kanban_latency_ms` as a worker's ack does (an HTTP worker sends
 * back only the id and lease). Entries go when the item is settled or its lease lapses; an ack
 * arriving at another server instance counts without a latency.
 */
@Injectable()
export class HandedOutItems {
  private readonly byLease = new Map<string, HandedOut>();

  record(deliveries: Delivery[]): void {
    this.evictLapsed();
    for (const { lease, item, leaseExpiresAt } of deliveries) {
      this.byLease.set(lease, { publishedAt: item.publishedAt, expiresAt: leaseExpiresAt });
    }
    for (const lease of this.byLease.keys()) {
      if (this.byLease.size <= HANDED_OUT_MAX) break;
      this.byLease.delete(lease);
    }
  }

  /** The item's publish time, if this server handed it out under `lease`; forgets it. */
  take(lease: string): number | undefined {
    const handedOut = this.byLease.get(lease);
    this.byLease.delete(lease);
    return handedOut?.publishedAt;
  }

  /** The lease was extended: keep the entry until the new expiry (re-inserted, so the map stays in expiry order). */
  extend(lease: string, expiresAt: number): void {
    const handedOut = this.byLease.get(lease);
    if (!handedOut) return;
    this.byLease.delete(lease);
    this.byLease.set(lease, { ...handedOut, expiresAt });
  }

  get size(): number {
    return this.byLease.size;
  }

  /** Oldest first; stops at the first unlapsed one, so the cost is what it removes. */
  private evictLapsed(): void {
    const now = Date.now();
    for (const [lease, { expiresAt }] of this.byLease) {
      if (expiresAt > now) break;
      this.byLease.delete(lease);
    }
  }
}
