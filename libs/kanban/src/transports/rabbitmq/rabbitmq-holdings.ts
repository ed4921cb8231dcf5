import type { Channel } from 'amqplib';
import { LeaseExpiredError } from '../../errors';
import type { LeaseRef, Priority } from '../../interfaces';
import type { ConsumedMessage, RabbitMqQueueConsumer } from './rabbitmq-queue-consumer';
import { RABBITMQ_MAX_TIMER_MS } from './rabbitmq.constants';

/** A delivery this transport keeps unacknowledged, and what it knows about it. */
export interface Holding {
  delivery: ConsumedMessage;
  id: string;
  priority: Priority;
  domain: string;
  attempts: number;
  malformed: boolean;
}

/** Handed out under a lease: `token` fences every settle. */
export interface Lease extends Holding {
  token: string;
  /** performance.now() when pulled. */
  deliveredAt: number;
  /** performance.now() when the lease lapses. */
  expiresAt: number;
  timer?: NodeJS.Timeout;
  /** A dead-letter move is in progress: the lapse timer and other settles keep off. */
  settling: boolean;
}

/** Waiting out a retry delay before it goes back to the queue. */
export interface HeldRetry extends Holding {
  timer?: NodeJS.Timeout;
}

/**
 * Every delivery the transport holds, by state: leased, waiting out a retry delay, or exhausted
 * (its lease lapsed on the last attempt; fenced until the stall sweep). Leases run on
 * performance.now(), so a wall-clock jump lapses nothing.
 */
export class RabbitMqHoldings {
  private readonly leases = new Map<string, Lease>();
  private readonly held = new Set<HeldRetry>();
  private readonly exhausted = new Set<Holding>();

  constructor(private readonly onLapse: (lease: Lease) => void) {}

  lease(holding: Holding, token: string, leaseMs: number): Lease {
    const lease: Lease = { ...holding, token, deliveredAt: performance.now(), expiresAt: 0, settling: false };
    this.leases.set(lease.token, lease);
    this.arm(lease, leaseMs);
    return lease;
  }

  /** (Re)starts the lease clock. */
  arm(lease: Lease, leaseMs: number): void {
    clearTimeout(lease.timer);
    lease.expiresAt = performance.now() + leaseMs;
    lease.timer = setTimeout(() => {
      if (this.leases.get(lease.token) !== lease || lease.settling) return;
      this.leases.delete(lease.token);
      this.onLapse(lease);
    }, Math.min(leaseMs, RABBITMQ_MAX_TIMER_MS));
    lease.timer.unref();
  }

  /** @throws LeaseExpiredError unless `ref` is the current lease of a delivery whose channel is still open. */
  claim(ref: LeaseRef): Lease {
    const lease = this.leases.get(ref.lease);
    if (!lease || lease.settling || lease.id !== ref.id || lease.domain !== ref.domain || lease.priority !== ref.priority) {
      throw new LeaseExpiredError(ref.id, ref.domain);
    }
    if (!lease.delivery.queue.owns(lease.delivery)) {
      this.drop(lease);
      throw new LeaseExpiredError(ref.id, ref.domain);
    }
    return lease;
  }

  drop(lease: Lease): void {
    clearTimeout(lease.timer);
    this.leases.delete(lease.token);
  }

  isCurrent(lease: Lease): boolean {
    return this.leases.get(lease.token) === lease;
  }

  /** Leases handed out at least `ageMs` ago and not being settled. */
  olderThan(ageMs: number): Lease[] {
    const now = performance.now();
    return [...this.leases.values()].filter((lease) => !lease.settling && now - lease.deliveredAt >= ageMs);
  }

  /** Ends the lease and keeps the delivery for `delayMs`, then calls `release`. */
  hold(lease: Lease, delayMs: number, release: (held: HeldRetry) => void): HeldRetry {
    this.drop(lease);
    const { delivery, id, priority, domain, attempts, malformed } = lease;
    const held: HeldRetry = { delivery, id, priority, domain, attempts, malformed };
    this.held.add(held);
    if (delayMs > 0) {
      held.timer = setTimeout(() => release(held), Math.min(delayMs, RABBITMQ_MAX_TIMER_MS));
      held.timer.unref();
    }
    return held;
  }

  /** False when the hold already ended (released, or its channel closed). */
  endHold(held: HeldRetry): boolean {
    clearTimeout(held.timer);
    return this.held.delete(held);
  }

  heldRetries(): HeldRetry[] {
    return [...this.held];
  }

  exhaust(holding: Holding): void {
    this.exhausted.add(holding);
  }

  takeExhausted(): Holding[] {
    const all = [...this.exhausted];
    this.exhausted.clear();
    return all;
  }

  /** For depth: deliveries of `queue` waiting out a delay (ready) and leased or exhausted (in flight). */
  countsFor(queue: RabbitMqQueueConsumer | undefined): { held: number; inFlight: number } {
    const ofQueue = (holding: Holding): boolean => holding.delivery.queue === queue;
    const inFlight = [...this.leases.values()].filter(ofQueue).length + [...this.exhausted].filter(ofQueue).length;
    return { held: [...this.held].filter(ofQueue).length, inFlight };
  }

  /** Everything from a closed channel is void: the broker requeued it, so none of it can be settled any more. */
  forgetChannel(queue: RabbitMqQueueConsumer, channel: Channel): void {
    const fromChannel = (holding: Holding): boolean => holding.delivery.queue === queue && holding.delivery.channel === channel;
    for (const lease of [...this.leases.values()]) if (fromChannel(lease)) this.drop(lease);
    for (const held of [...this.held]) if (fromChannel(held)) this.endHold(held);
    for (const holding of [...this.exhausted]) if (fromChannel(holding)) this.exhausted.delete(holding);
  }

  clear(): void {
    for (const lease of [...this.leases.values()]) this.drop(lease);
    for (const held of [...this.held]) this.endHold(held);
    this.exhausted.clear();
  }
}
