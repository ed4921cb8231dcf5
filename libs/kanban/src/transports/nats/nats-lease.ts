import { performance } from 'node:perf_hooks';
import { LeaseExpiredError } from '../../errors';
import type { LeaseRef } from '../../interfaces/delivery.interface';

/** What JetStream's ack reply subject says about one delivery. */
export interface NatsDeliveryInfo {
  stream: string;
  consumer: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  streamSeq: number;
  deliverySeq: number;
}

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` and the longer
 * form with domain and account hash (`$JS.ACK.<domain>.<hash>.<stream>.<consumer>.…`).
 */
const ACK_TOKEN = /^[A-Za-z0-9_-]+$/;

export function parseAckSubject(reply: string): NatsDeliveryInfo | undefined {
  const tokens = reply.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined;
  // A lease comes back from callers: wildcards, spaces or control characters must never reach a subject.
  if (tokens.slice(2).some((token) => !ACK_TOKEN.test(token))) return undefined;
  const rest = tokens.length === 9 ? tokens.slice(2) : tokens.length >= 12 ? tokens.slice(4) : undefined;
  if (!rest) return undefined;
  const [stream, consumer, delivered, sseq, dseq] = rest;
  const numbers = [delivered, sseq, dseq].map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n) || n <= 0)) return undefined;
  return { stream, consumer, deliveryCount: numbers[0], streamSeq: numbers[1], deliverySeq: numbers[2] };
}

/** What the transport does with a lapsed lease: release the item now, or hold it for the sweep (last attempt). */
export type LapseAction = 'release' | 'hold';

const NO_DATA = new Uint8Array(0);

/** A delivery this instance handed out. */
export interface TrackedLease {
  ref: LeaseRef;
  reply: string;
  info: NatsDeliveryInfo;
  /** Attempts with this delivery: JetStream's delivery count plus those made before a delayed retry moved the item. */
  attempts: number;
  /** The delivered bytes, kept while the lease is open so dead-lettering needs no extra read. */
  data: Uint8Array;
  /** performance.now() of the delivery: what the stalled sweep measures. */
  deliveredAt: number;
  /** performance.now() after which settles are refused. */
  deadline: number;
  /** Epoch ms of the lapse, as handed out with the delivery. */
  expiresAt: number;
  timer?: NodeJS.Timeout;
  /** Settled, released or taken by the sweep: the registry has forgotten it, so any further settle is refused. */
  closed: boolean;
  /** Lapsed on its last attempt: held back from redelivery until the sweep dead-letters it. */
  exhausted: boolean;
}

/**
 * Leases on the client side. JetStream's ack wait is one value per consumer and JetStream 2.9
 * and 2.10 accept an ack from a superseded delivery (they find the message by stream sequence),
 * which would remove an item a newer lease holder is working on. So each delivery's lease runs
 * here: a timer at its end calls `onLapse` (the transport releases the item) and every settle
 * after it is refused. The consumer's ack wait stays longer, as the backstop when this process dies.
 *
 * The registry is the only fence: a lease is good while it is open here, for the item, domain and
 * priority it was handed out for, and nothing the caller sends back (an expiry, a sequence) counts.
 * Settles of leases handed out by another instance are relayed to that instance (SettleRelay).
 */
export class NatsLeaseRegistry {
  /** Open leases (exhausted ones included), by lease: the delivery's ack subject. */
  private readonly leases = new Map<string, TrackedLease>();

  constructor(private readonly onLapse: (lease: TrackedLease) => LapseAction) {}

  track(ref: Omit<LeaseRef, 'lease'>, reply: string, info: NatsDeliveryInfo, attempts: number, leaseMs: number, data: Uint8Array): { lease: string; expiresAt: number } {
    const now = performance.now();
    const expiresAt = Date.now() + leaseMs;
    // The ack subject names one delivery (delivery sequence, count and time): never handed out twice.
    const lease = reply;
    const tracked: TrackedLease = { ref: { ...ref, lease }, reply, info, attempts, data, deliveredAt: now, deadline: now + leaseMs, expiresAt, closed: false, exhausted: false };
    this.arm(tracked, leaseMs);
    this.leases.set(lease, tracked);
    return { lease, expiresAt };
  }

  /**
   * The open lease `ref` names; settles go to its ack subject, never to one the caller sent.
   * @param stream the work stream of the ref's (priority, domain): a lease is only good for its own queue and item.
   * @throws LeaseExpiredError when the lease lapsed, was settled already, was taken by the sweep, was never handed out here, or belongs to another item or queue.
   */
  assertCurrent(ref: LeaseRef, stream: string, consumer: string): TrackedLease {
    const tracked = typeof ref.lease === 'string' ? this.leases.get(ref.lease) : undefined;
    if (!tracked) throw new LeaseExpiredError(ref.id, ref.domain);
    const other = tracked.ref.id !== ref.id || tracked.ref.domain !== ref.domain || tracked.ref.priority !== ref.priority;
    const elsewhere = tracked.info.stream !== stream || tracked.info.consumer !== consumer;
    if (other || elsewhere || tracked.exhausted || performance.now() >= tracked.deadline) throw new LeaseExpiredError(ref.id, ref.domain);
    return tracked;
  }

  /** Restarts the lease after a `working()` the server confirmed. */
  extend(ref: LeaseRef, leaseMs: number): void {
    const tracked = this.leases.get(ref.lease);
    if (!tracked) return;
    tracked.deadline = performance.now() + leaseMs;
    this.arm(tracked, leaseMs);
  }

  /** Closes the lease: its timer stops and a further settle with it is refused. */
  close(ref: LeaseRef): void {
    const tracked = this.leases.get(ref.lease);
    if (tracked) this.closeTracked(tracked);
  }

  /** Open leases kept alive by extensions for longer than `olderThanMs` since delivery. */
  heldLongerThan(olderThanMs: number): TrackedLease[] {
    const cutoff = performance.now() - olderThanMs;
    return [...this.leases.values()].filter((lease) => !lease.exhausted && lease.deliveredAt <= cutoff);
  }

  /** Leases that lapsed on the item's last attempt and wait for the sweep. */
  exhausted(): TrackedLease[] {
    return [...this.leases.values()].filter((lease) => lease.exhausted);
  }

  /** Closes every open lease (the transport is closing) and returns them, so their items can be released. */
  closeAll(): TrackedLease[] {
    const open = [...this.leases.values()];
    for (const lease of open) this.closeTracked(lease);
    return open;
  }

  private arm(tracked: TrackedLease, leaseMs: number): void {
    clearTimeout(tracked.timer);
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      if (tracked.closed) return;
      if (this.onLapse(tracked) === 'hold') tracked.exhausted = true;
      else this.closeTracked(tracked);
    }, leaseMs);
    tracked.timer.unref();
  }

  private closeTracked(tracked: TrackedLease): void {
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
    tracked.closed = true;
    tracked.data = NO_DATA;
    this.leases.delete(tracked.ref.lease);
  }
}
