import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { BrokerBlockedError, BrokerUnavailableError, QueueUnavailableError } from '../../errors';
import type { PublishReceipt, WorkItem } from '../../interfaces/work-item.interface';
import type { KanbanTransport, TransportStatus } from '../../transport/kanban-transport';
import { FAILOVER_PROBE_TIMEOUT_MS, FAILOVER_RECONNECT_INTERVAL_MS, FAILOVER_RECOVERY_PROBES } from './failover.constants';

type Settled<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Waits for `promise` at most `timeoutMs` (no bound when undefined); the promise itself runs on. */
async function settleWithin<T>(promise: Promise<T>, timeoutMs: number | undefined): Promise<Settled<T>> {
  const settled = promise.then(
    (value): Settled<T> => ({ kind: 'value', value }),
    (error: unknown): Settled<T> => ({ kind: 'error', error }),
  );
  if (timeoutMs === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One broker behind the failover transport and whether it takes work now.
 *
 * A broker whose status is `degraded` is still pulled from and settled with; it takes publishes
 * only while its status names it active (one queue not answering), not while it names none (a
 * RabbitMQ resource alarm blocks publishing: draining its queues is what clears the alarm).
 *
 * It becomes unavailable when its status is neither `up` nor `degraded`, or when a publish, pull or depth
 * read fails for lack of a broker (a publish past its bound included; a QueueUnavailableError is not that): a frozen broker keeps its
 * connection and its `up` status, and only such failures reveal it. It becomes available again only after
 * FAILOVER_RECOVERY_PROBES consecutive probes (`transport.probe()`) answered in time, so one good answer in the
 * middle of an outage does not pull work back to it. A broker whose first connect failed is asked
 * to connect again every FAILOVER_RECONNECT_INTERVAL_MS (NATS does not retry a failed first connect).
 */
export class BrokerLink {
  private connected = false;
  private available = false;
  private reason = 'not connected yet';
  private connecting?: Promise<void>;
  private lastConnectAt = Number.NEGATIVE_INFINITY;
  private probeStreak = 0;
  private probing = false;
  private closed = false;
  private subscription?: Subscription;
  private publishedCount = 0;
  private unknownCount = 0;
  private lateAckCount = 0;

  /**
   * @param publishTimeoutMs bound on a publish to this broker; past it the publish counts as failed
   *   with an unknown outcome. Undefined: the transport's own timeout applies.
   */
  constructor(
    readonly transport: KanbanTransport,
    private readonly publishTimeoutMs: number | undefined,
    private readonly onChange: () => void,
  ) {}

  get name(): string {
    return this.transport.broker;
  }

  /** Takes publishes now. */
  get isAvailable(): boolean {
    const { state, active } = this.transport.currentStatus;
    return this.inService && (state === 'up' || (state === 'degraded' && active === this.name));
  }

  /** Can be pulled from now (it may still refuse publishes). */
  get isPullable(): boolean {
    const { state } = this.transport.currentStatus;
    return this.inService && (state === 'up' || state === 'degraded');
  }

  /** Why the broker takes no publishes (the first sign of the current outage, or its degraded status). */
  get unavailableReason(): string {
    const { state, detail } = this.transport.currentStatus;
    if (this.inService && !this.isAvailable) return `${this.name} ${state}${detail ? `: ${detail}` : ''}`;
    return this.reason;
  }

  private get inService(): boolean {
    return this.available && !this.closed;
  }

  /** Publishes this broker acknowledged. */
  get published(): number {
    return this.publishedCount;
  }

  /** Publishes that failed here in a way that may still have stored the item (timed out, or lost mid-request). */
  get unknownOutcomes(): number {
    return this.unknownCount;
  }

  /** Of those, publishes this broker acknowledged after the failover had given up on them: copies known to exist twice. */
  get lateAcks(): number {
    return this.lateAckCount;
  }

  /** The first connect: available at once when it succeeds; rejects as the transport does, and the link keeps trying. */
  async connect(): Promise<void> {
    this.subscription ??= this.transport.status$.subscribe((status) => this.onStatus(status));
    await this.tryConnect();
    this.available = true;
    this.onChange();
  }

  /** Periodic: reconnects a broker that never connected, probes an unavailable one. */
  tick(): void {
    if (this.closed) return;
    if (!this.connected) {
      if (!this.connecting && performance.now() - this.lastConnectAt >= FAILOVER_RECONNECT_INTERVAL_MS) {
        this.tryConnect().catch(() => undefined);
      }
      return;
    }
    if (!this.available && !this.probing && this.transport.currentStatus.state === 'up') void this.probe();
  }

  /**
   * Runs a call on the broker. With `detectsOutage` (publish-path calls, pulls, depth), a
   * BrokerUnavailableError or a call past `timeoutMs` also takes the broker out of service until it
   * recovers; settles and dead-letter reads do not, since their failures can concern one item only.
   */
  async call<T>(operation: (transport: KanbanTransport) => Promise<T>, options: { timeoutMs?: number; detectsOutage?: boolean } = {}): Promise<T> {
    const detectsOutage = options.detectsOutage ?? true;
    const outcome = await settleWithin(
      Promise.resolve().then(() => operation(this.transport)),
      options.timeoutMs,
    );
    if (outcome.kind === 'value') return outcome.value;
    if (outcome.kind === 'timeout') {
      const error = new BrokerUnavailableError(this.name, `no answer within ${options.timeoutMs} ms`);
      if (detectsOutage) this.markUnavailable(error.message);
      throw error;
    }
    // One queue not answering (a stream electing its leader) leaves the broker in service; its publishes decide within their bound.
    if (detectsOutage && outcome.error instanceof BrokerUnavailableError && !(outcome.error instanceof QueueUnavailableError)) this.markUnavailable(outcome.error.message);
    throw outcome.error;
  }

  /**
   * Publishes within the link's bound. A failure that may have stored the item anyway is counted
   * as an unknown outcome (conservatively: any failure the broker's client reported after sending,
   * while the broker was up); a late acknowledgement of a timed-out publish is counted too.
   * @throws BrokerUnavailableError when the broker did not take the item; other KanbanErrors (full queue, invalid item) as they are.
   */
  async publish(item: WorkItem): Promise<PublishReceipt> {
    const wasUp = this.transport.currentStatus.state === 'up';
    const attempt = Promise.resolve().then(() => this.transport.publish(item));
    const outcome = await settleWithin(attempt, this.publishTimeoutMs);
    if (outcome.kind === 'value') {
      this.publishedCount++;
      return outcome.value;
    }
    if (outcome.kind === 'timeout') {
      this.unknownCount++;
      attempt.then(
        () => this.lateAckCount++,
        () => undefined,
      );
      const error = new BrokerUnavailableError(this.name, `no acknowledgement of item ${item.id} within ${this.publishTimeoutMs} ms (outcome unknown)`);
      this.markUnavailable(error.message);
      throw error;
    }
    const { error } = outcome;
    // A blocked broker still delivers: its status keeps publishes away, pulls go on.
    if (error instanceof BrokerUnavailableError && !(error instanceof BrokerBlockedError)) {
      if (wasUp && error.cause !== undefined) this.unknownCount++;
      this.markUnavailable(error.message);
    }
    throw error;
  }

  markUnavailable(reason: string): void {
    if (!this.available) return;
    this.available = false;
    this.probeStreak = 0;
    this.reason = reason;
    this.onChange();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscription?.unsubscribe();
    await this.transport.close();
  }

  private tryConnect(): Promise<void> {
    this.lastConnectAt = performance.now();
    this.connecting ??= this.transport
      .connect()
      .then(
        () => {
          this.connected = true;
        },
        (error: unknown) => {
          this.reason = (error as Error).message;
          throw error;
        },
      )
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private onStatus(status: TransportStatus): void {
    if (this.closed) return;
    // RabbitMQ reconnects by itself after a failed first connect: its `up` (or `degraded`) is the connect.
    if (status.state === 'up' || status.state === 'degraded') this.connected = true;
    else this.markUnavailable(`${this.name} ${status.state}${status.detail ? `: ${status.detail}` : ''}`);
    this.onChange();
  }

  private async probe(): Promise<void> {
    this.probing = true;
    const read = Promise.resolve().then(() => this.transport.probe());
    // A probe that timed out keeps the flag until its read ends: one probe in flight at most.
    const done = (): void => {
      this.probing = false;
    };
    read.then(done, done);
    const outcome = await settleWithin(read, FAILOVER_PROBE_TIMEOUT_MS);
    if (this.closed || this.available) return;
    if (outcome.kind !== 'value') {
      this.probeStreak = 0;
      return;
    }
    this.probeStreak++;
    if (this.probeStreak < FAILOVER_RECOVERY_PROBES || this.transport.currentStatus.state !== 'up') return;
    this.available = true;
    this.reason = '';
    this.onChange();
  }
}
