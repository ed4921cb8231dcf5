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
  /** A dead-letter move is in progress: the lapse scan and other settles keep off. */
  settling: boolean;
  /** Being moved to the delay ladder and already in its queue's delayed tally: depth counts it there, not in flight. */
  countedAsDelayed: boolean;
}

/**
 * Every delivery the transport holds, by state: leased, or exhausted (its lease lapsed on the last
 * attempt; fenced until the stall sweep). Leases run on
 * performance.now(), so a wall-clock jump lapses nothing.
 *
 * Lapses are found by one timer for all leases, armed for the earliest expiry: arming a lease only
 * moves it earlier, and when it fires, one scan lapses what is due and re-arms for the next. In the
 * common case (every lease settled well before it lapses) that is one timer per lease period, not a
 * setTimeout and a clearTimeout per delivery.
 */
export class RabbitMqHoldings {
  private readonly leases = new Map<string, Lease>();
  private readonly exhausted = new Set<Holding>();
  private lapseTimer?: NodeJS.Timeout;
  /** performance.now() the lapse timer fires at (Infinity when none is armed). */
  private lapseAt = Number.POSITIVE_INFINITY;

  constructor(private readonly onLapse: (lease: Lease) => void) {}

  lease(holding: Holding, token: string, leaseMs: number): Lease {
    const now = performance.now();
    const lease: Lease = {
      delivery: holding.delivery,
      id: holding.id,
      priority: holding.priority,
      domain: holding.domain,
      attempts: holding.attempts,
      malformed: holding.malformed,
      token,
      deliveredAt: now,
      expiresAt: now + leaseMs,
      settling: false,
      countedAsDelayed: false,
    };
    this.leases.set(token, lease);
    this.schedule(lease.expiresAt);
    return lease;
  }

  /** (Re)starts the lease clock. */
  arm(lease: Lease, leaseMs: number): void {
    lease.expiresAt = performance.now() + leaseMs;
    this.schedule(lease.expiresAt);
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
    if (performance.now() >= lease.expiresAt) {
      // The lapse timer has not run yet (a process resumed after SIGSTOP runs its pending callbacks in any
      // order): the lease is over all the same, so lapse it now rather than settle a delivery the broker may
      // already have handed to someone else.
      clearTimeout(this.lapseTimer);
      this.lapseDue();
      throw new LeaseExpiredError(ref.id, ref.domain);
    }
    return lease;
  }

  drop(lease: Lease): void {
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

  exhaust(holding: Holding): void {
    this.exhausted.add(holding);
  }

  takeExhausted(): Holding[] {
    const all = [...this.exhausted];
    this.exhausted.clear();
    return all;
  }

  /** For depth: deliveries of `queue` leased (and not yet counted as delayed) or exhausted. */
  inFlightOf(queue: RabbitMqQueueConsumer | undefined): number {
    const ofQueue = (holding: Holding): boolean => holding.delivery.queue === queue;
    return [...this.leases.values()].filter((lease) => ofQueue(lease) && !lease.countedAsDelayed).length + [...this.exhausted].filter(ofQueue).length;
  }

  /** Everything from a closed channel is void: the broker requeued it, so none of it can be settled any more. */
  forgetChannel(queue: RabbitMqQueueConsumer, channel: Channel): void {
    const fromChannel = (holding: Holding): boolean => holding.delivery.queue === queue && holding.delivery.channel === channel;
    for (const lease of [...this.leases.values()]) if (fromChannel(lease)) this.drop(lease);
    for (const holding of [...this.exhausted]) if (fromChannel(holding)) this.exhausted.delete(holding);
  }

  clear(): void {
    this.leases.clear();
    this.exhausted.clear();
    clearTimeout(this.lapseTimer);
    this.lapseTimer = undefined;
    this.lapseAt = Number.POSITIVE_INFINITY;
  }

  /** Makes sure the lapse timer fires no later than `expiresAt`. */
  private schedule(expiresAt: number): void {
    if (expiresAt >= this.lapseAt) return;
    clearTimeout(this.lapseTimer);
    this.lapseAt = expiresAt;
    const delay = Math.min(Math.max(0, expiresAt - performance.now()), RABBITMQ_MAX_TIMER_MS);
    this.lapseTimer = setTimeout(() => this.lapseDue(), delay);
    this.lapseTimer.unref();
  }

  /** Lapses every lease that is due (not while a dead-letter move runs), then arms for the earliest one left. */
  private lapseDue(): void {
    this.lapseTimer = undefined;
    this.lapseAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const due: Lease[] = [];
    for (const lease of this.leases.values()) {
      if (lease.settling) continue;
      if (lease.expiresAt <= now) due.push(lease);
      else if (lease.expiresAt < next) next = lease.expiresAt;
    }
    for (const lease of due) {
      // An earlier lapse in this round may have settled or replaced it.
      if (this.leases.get(lease.token) !== lease || lease.settling) continue;
      this.leases.delete(lease.token);
      this.onLapse(lease);
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next);
  }
}
