import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { createInbox, nanos } from './nats-client';
import { BrokerUnavailableError } from '../../errors';
import { NATS_FEED_REQUEST_EXPIRES_MS } from './nats.constants';

const STATUS_NO_MESSAGES = 404;
const STATUS_REQUEST_TIMEOUT = 408;
const STATUS_CONFLICT = 409;
const STATUS_NO_RESPONDERS = 503;
/** After a request ended without delivering (404, a 409 other than "consumer deleted"), wait this long before the next. */
const REISSUE_BACKOFF_MS = 50;
/**
 * A request whose end (batch filled, 408) was never seen counts as ended this long after its
 * expiry (a lost connection, say). nats-server 2.9.10 now and then drops a pull request without a
 * 408 (about one in 250 sent right after the previous one's 408, reproduced with a bare client), so
 * this is short: a longer grace stalled a queue whose items trickle in for that long each time.
 * A request still alive after all delivers into the same subscription and its 408 is ignored.
 */
const LOST_REQUEST_GRACE_MS = 100;

/** A message the feed received and has not handed out yet, with when it arrived (JetStream's ack wait runs from then). */
export interface FedMessage {
  message: Msg;
  arrivedAt: number;
  /** Since when its stream leader could not be asked about it (see NatsDeliveryVerifier); unset once never withheld. */
  unverifiedSince?: number;
}

interface Waiter {
  max: number;
  deadline: number;
  resolve: (messages: FedMessage[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * The waiting pulls of one (priority, domain) work queue in this process, served by one standing
 * pull request instead of one no-wait request (and one wake-up subscription) per pull.
 *
 * While any pull waits, one pull request is open on the server with `batch` = what the waiting
 * pulls asked for together; JetStream pushes each item to it as soon as it is stored, and the
 * feed hands it to the longest-waiting pull. At most one request is open at a time, so what the
 * server may still push is always known (the request's remaining batch). Items that arrive when
 * no pull waits stay in a local buffer and go to the next pull (waiting or not). One that has
 * waited there for `holdMs` (the lease budget: JetStream's ack wait has been running since it
 * arrived) is released back to the queue, as JetStream would redeliver it soon after anyway;
 * releasing earlier (on a short idle) would spend one of the item's attempts each time the
 * workers happen to be busy, and could dead-letter an item no handler ever saw.
 *
 * The feed knows nothing of leases: the transport starts an item's lease when it hands it out,
 * shortened by the time it spent here (JetStream's ack wait started at arrival).
 */
export class NatsFeed {
  private readonly buffer: FedMessage[] = [];
  private readonly waiters: Waiter[] = [];
  private subscription?: Subscription;
  /** Each request answers on `{inbox}.{its number}`, so an answer is known to be the open request's or an older one's. */
  private inbox = '';
  private requests = 0;
  /** The open request and the messages it may still deliver; undefined when none is open. */
  private open?: { id: number; remaining: number; lostTimer: NodeJS.Timeout };
  private reissueTimer?: NodeJS.Timeout;
  private holdTimer?: NodeJS.Timeout;
  private dispatchScheduled = false;
  private closed = false;
  /** Pulls using the feed right now: a feed in use is never released. */
  pulls = 0;
  lastUsedAt = performance.now();

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly consumer: string,
    private readonly maxBatch: number,
    /** How long a received item may wait here before it goes back to the queue. */
    private readonly holdMs: number,
    /** Called with messages the feed gives back unhanded (idle, close): the transport releases them. */
    private readonly release: (messages: FedMessage[]) => void,
    /** Called when the consumer or stream is gone, or a request went unanswered: the transport declares the queue again on the next pull. */
    private readonly onGone: () => void,
  ) {}

  /** Whether the feed holds a subscription on the connection. */
  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  /**
   * Whether closing the feed loses nothing and strands no pull: none uses or waits on it, it holds
   * nothing, and no pull request is open (the server could still push to it) or about to be.
   */
  get releasable(): boolean {
    return this.pulls === 0 && this.waiters.length === 0 && this.buffer.length === 0 && this.open === undefined && this.reissueTimer === undefined;
  }

  /** Messages buffered now, up to `max`, without waiting. */
  takeBuffered(max: number): FedMessage[] {
    this.lastUsedAt = performance.now();
    return max > 0 && this.buffer.length > 0 ? this.buffer.splice(0, max) : [];
  }

  /**
   * Up to `max` messages: buffered ones at once, else the first ones the server pushes within
   * `waitMs`; [] after waitMs, on abort or on close.
   * @throws BrokerUnavailableError when JetStream refuses the pull (consumer deleted, no responders).
   */
  take(max: number, waitMs: number, signal?: AbortSignal): Promise<FedMessage[]> {
    this.lastUsedAt = performance.now();
    const ready = this.takeBuffered(max);
    if (ready.length > 0 || this.closed || waitMs <= 0 || signal?.aborted) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        max,
        deadline: performance.now() + waitMs,
        resolve,
        reject,
        signal,
        timer: setTimeout(() => this.leave(waiter, []), waitMs),
      };
      if (signal) {
        waiter.onAbort = () => this.leave(waiter, []);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.request();
    });
  }

  /**
   * Takes a message the server delivered for another request of this process (the late answer of
   * a no-wait pull): it waits here for the next pull like one of the feed's own.
   */
  park(entry: FedMessage): void {
    this.lastUsedAt = performance.now();
    if (this.closed) return this.release([entry]);
    this.buffer.push(entry);
    this.scheduleDispatch();
  }

  /** Stops the feed: waiting pulls get [], the subscription ends, buffered messages go back through `release`. */
  close(): FedMessage[] {
    this.closed = true;
    for (const waiter of [...this.waiters]) this.leave(waiter, []);
    this.endRequest();
    clearTimeout(this.reissueTimer);
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    return this.buffer.splice(0);
  }

  private leave(waiter: Waiter, messages: FedMessage[], error?: Error): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (error) waiter.reject(error);
    else waiter.resolve(messages);
  }

  /** After a reconnect the server may have lost the open request: forget it and open a new one for the waiting pulls. */
  reset(): void {
    this.endRequest();
    this.request();
  }

  /** Opens a pull request for the waiting pulls unless one is open. */
  private request(): void {
    if (this.closed || this.open || this.reissueTimer || this.waiters.length === 0) return;
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    if (!this.subscription) {
      this.inbox = createInbox();
      this.subscription = this.nc.subscribe(`${this.inbox}.*`, { callback: (error, message) => (error ? undefined : this.onMessage(message)) });
    }
    let wanted = 0;
    let longest = 0;
    const now = performance.now();
    for (const waiter of this.waiters) {
      wanted += waiter.max;
      longest = Math.max(longest, waiter.deadline - now);
    }
    const batch = Math.max(1, Math.min(wanted - this.buffer.length, this.maxBatch));
    // The request lives no longer than the longest wait: items pushed after every pull gave up would only wait in the buffer.
    const expiresMs = Math.max(1, Math.min(NATS_FEED_REQUEST_EXPIRES_MS, Math.ceil(longest)));
    const lostTimer = setTimeout(() => {
      this.open = undefined;
      // Silence also means no consumer behind the subject (`nats consumer rm`): the transport declares the queue again.
      this.onGone();
      this.request();
    }, expiresMs + LOST_REQUEST_GRACE_MS);
    lostTimer.unref();
    const id = ++this.requests;
    this.open = { id, remaining: batch, lostTimer };
    this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.consumer}`, JSON.stringify({ batch, expires: nanos(expiresMs) }), { reply: `${this.inbox}.${id}` });
  }

  private endRequest(): void {
    if (!this.open) return;
    clearTimeout(this.open.lostTimer);
    this.open = undefined;
  }

  private reissueAfter(ms: number): void {
    if (this.reissueTimer || this.closed) return;
    this.reissueTimer = setTimeout(() => {
      this.reissueTimer = undefined;
      this.request();
    }, ms);
  }

  /**
   * A status ends only the request it answers (statuses come on the request's reply subject): with
   * one reply subject for all, the 408 of an expired request, arriving just after the next one was
   * sent, was taken for that one's end, and the feed waited out a request the server no longer held.
   * Items come on their stream subject, so each counts against the open request.
   */
  private onMessage(message: Msg): void {
    const code = message.headers?.code;
    if (code && message.data.length === 0) {
      if (this.open && message.subject === `${this.inbox}.${this.open.id}`) this.onStatus(code, message.headers?.description ?? '');
      return;
    }
    this.buffer.push({ message, arrivedAt: performance.now() });
    if (this.open && --this.open.remaining <= 0) this.endRequest();
    this.scheduleDispatch();
  }

  /** Hands out once per burst (one socket read carries many messages), not once per message. */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => this.dispatch());
  }

  private onStatus(code: number, description: string): void {
    if (code === STATUS_REQUEST_TIMEOUT) {
      this.endRequest();
      this.request();
      return;
    }
    if (code === STATUS_CONFLICT && /deleted/i.test(description)) return this.fail(`the consumer ${this.stream}/${this.consumer} was deleted`);
    if (code === STATUS_NO_RESPONDERS) return this.fail(`JetStream did not answer a pull on ${this.stream}`);
    if (code === STATUS_NO_MESSAGES || code === STATUS_CONFLICT || code >= 400) {
      // The request ended (limits, leadership change, server shutdown): open the next one shortly.
      this.endRequest();
      this.reissueAfter(REISSUE_BACKOFF_MS);
    }
    // 100 (heartbeat, flow control): nothing to do.
  }

  private fail(reason: string): void {
    this.endRequest();
    this.onGone();
    const error = new BrokerUnavailableError('nats', reason);
    for (const waiter of [...this.waiters]) this.leave(waiter, [], error);
  }

  /**
   * Hands the buffer out, longest-waiting pull first, each up to its max, then opens the next
   * request if some still wait. Full batches, not an even spread: a worker awaits its batch's
   * settles before it pulls again, so many one-item batches would put that round trip back on
   * every item.
   */
  private dispatch(): void {
    this.dispatchScheduled = false;
    while (this.buffer.length > 0 && this.waiters.length > 0) {
      const waiter = this.waiters[0];
      this.leave(waiter, this.buffer.splice(0, waiter.max));
    }
    if (this.waiters.length > 0) this.request();
    else if (this.buffer.length > 0) this.armHold();
  }

  /** Arms one timer for the oldest buffered item's hold limit; releases what reached it. */
  private armHold(): void {
    if (this.holdTimer || this.closed || this.buffer.length === 0) return;
    const due = Math.max(0, this.buffer[0].arrivedAt + this.holdMs - performance.now());
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      const now = performance.now();
      let expired = 0;
      while (expired < this.buffer.length && now - this.buffer[expired].arrivedAt >= this.holdMs) expired++;
      if (expired > 0) this.release(this.buffer.splice(0, expired));
      this.armHold();
    }, due);
    this.holdTimer.unref();
  }
}
