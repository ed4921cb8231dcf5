import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError, DeadLetterNotFoundError, KanbanConfigError, LeaseExpiredError, OutboxFullError } from '../../errors';
import { DEAD_LETTER_DEFAULT_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterPage, type DeadLetterReason } from '../../interfaces/dead-letter.interface';
import type { LeaseRef, PullOptions, QueueRef, TransportDelivery } from '../../interfaces/delivery.interface';
import type { QueueDepth } from '../../interfaces/queue-depth.interface';
import type { GroupFilter, GroupLimits, GroupPage } from '../../interfaces/group.interface';
import type { BrokerName, Priority, PublishReceipt, WorkItem } from '../../interfaces/work-item.interface';
import { KanbanTransport, type TransportStatus } from '../../transport/kanban-transport';
import { BrokerLink } from './broker-link';
import { FailoverControlChannel } from './failover-control-channel';
import { FAILOVER_CLOSE_FLUSH_TIMEOUT_MS, FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS, FAILOVER_PROBE_INTERVAL_MS, FAILOVER_PULL_WAIT_SLICE_MS } from './failover.constants';
import { unwrapLease, wrapDelivery } from './failover-lease';
import { listChained } from './chained-dead-letters';
import { OutboxForwarder } from './outbox-forwarder';
import type { OutboxStore } from './outbox-store';
import type { ScheduleCoordination } from '../../scheduler/schedule-coordination.interface';
import type { FleetCoordination, FleetSettings } from '../../transport/fleet-membership.interface';
import { failoverFleet } from './failover-fleet';

export interface FailoverOptions {
  /**
   * A primary publish not acknowledged within this time goes to the fallback (its outcome counts
   * as unknown). Keep it at or below the primary's own publish timeout.
   * @default 1500
   */
  publishTimeoutMs?: number;
}

/** Counters since start, for tests, health detail and dashboards. */
export interface FailoverStats {
  /** Acknowledged publishes by where they went: the primary's and fallback's names, and `outbox`. Forwarded items count at their broker too. */
  published: Record<string, number>;
  /** Outbox items handed to a broker. */
  forwarded: number;
  /** Items waiting in the outbox now. */
  outboxSize: number;
  /**
   * Publishes sent on after a broker failed in a way that may have stored them anyway (timed out,
   * or lost mid-request): the upper bound of the copies failover created.
   */
  unknownOutcomes: number;
  /** Of those, publishes the first broker acknowledged late: copies known to exist twice. */
  lateAcks: number;
  /** Changes of the broker taking publishes. */
  switches: number;
  /** Brokers taking work now, primary first. */
  available: string[];
}

/**
 * A primary broker (NATS JetStream) with a fallback (RabbitMQ) and a local durable outbox (a
 * table in the embedded store's SQLite file), behind the one transport contract.
 *
 * - publish: the primary while it is available, bounded by `publishTimeoutMs`; else the fallback;
 *   else the outbox (`broker: 'outbox'`), forwarded in order when a broker returns. Only a full or
 *   failing outbox rejects (`OutboxFullError` / `BrokerUnavailableError`). A full queue
 *   (`QueueFullError`) or an invalid item is not an outage and is thrown as it is.
 * - availability: see BrokerLink (status, failed calls, recovery after consecutive probes).
 * - pull: both brokers (also one that refuses publishes during a resource alarm), taking turns
 *   on which is read first; a domain pull is strictly high → normal → low within each broker.
 *   Leases carry the delivering broker's name, so settles go back to it.
 * - depth, dead letters, stalled sweeps: both brokers (those available) and the outbox.
 * - status: `up` on the primary, `degraded` on the fallback or the outbox, `down` with nowhere to
 *   publish; `active` names where publishes go.
 * - close: stops intake, forwards the outbox for up to FAILOVER_CLOSE_FLUSH_TIMEOUT_MS when a
 *   broker is available, then closes both brokers (items they hold stay there) and the outbox
 *   (what is left stays in the file and is forwarded after the next connect).
 */
export class FailoverTransport extends KanbanTransport {
  readonly broker = 'failover';
  private readonly logger = new Logger(FailoverTransport.name);
  private readonly primary: BrokerLink;
  private readonly fallback: BrokerLink;
  private readonly links: readonly BrokerLink[];
  private readonly forwarder: OutboxForwarder;
  override readonly controlChannel?: FailoverControlChannel;
  private monitor?: NodeJS.Timeout;
  private readonly publishTimeoutMs: number;
  private started = false;
  private outboxPublishes = 0;
  /** Counts ready-pulls; which broker a pull reads first rotates with it. */
  private pullTurn = 0;
  private switchCount = 0;

  /** @throws KanbanConfigError when both transports name the same broker (leases could not be routed). */
  constructor(
    primary: KanbanTransport,
    fallback: KanbanTransport,
    private readonly outbox: OutboxStore,
    options: FailoverOptions = {},
  ) {
    super();
    if (primary.broker === fallback.broker || [primary.broker, fallback.broker].includes('outbox')) {
      throw new KanbanConfigError('failover', `the primary and the fallback must be two different brokers other than 'outbox', got ${primary.broker} and ${fallback.broker}`);
    }
    const onChange = (): void => this.refreshStatus();
    this.publishTimeoutMs = options.publishTimeoutMs ?? FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS;
    this.primary = new BrokerLink(primary, this.publishTimeoutMs, onChange);
    this.fallback = new BrokerLink(fallback, undefined, onChange);
    this.links = [this.primary, this.fallback];
    this.forwarder = new OutboxForwarder(outbox, (item) => this.publishToBroker(item), this.logger);
    const channels = [primary.controlChannel, fallback.controlChannel].filter((channel) => channel !== undefined);
    if (channels.length > 0) this.controlChannel = new FailoverControlChannel(channels);
  }

  get stats(): FailoverStats {
    return {
      published: { [this.primary.name]: this.primary.published, [this.fallback.name]: this.fallback.published, outbox: this.outboxPublishes },
      forwarded: this.forwarder.forwarded,
      outboxSize: this.outbox.size,
      unknownOutcomes: this.primary.unknownOutcomes + this.fallback.unknownOutcomes,
      lateAcks: this.primary.lateAcks + this.fallback.lateAcks,
      switches: this.switchCount,
      available: this.available().map((link) => link.name),
    };
  }

  /**
   * Connects both brokers and opens the outbox. Resolves when at least one of the three works
   * (status says which); the others are retried in the background.
   * @throws BrokerUnavailableError when none works; a broker's configuration or topology error as it is.
   */
  connect(): Promise<void> {
    return this.connectOnce(() => this.open());
  }

  private async open(): Promise<void> {
    const names = [this.primary.name, this.fallback.name, 'outbox'];
    const settled = await Promise.allSettled([this.primary.connect(), this.fallback.connect(), Promise.resolve().then(() => this.outbox.open())]);
    const refusals = settled.flatMap((result, index) => (result.status === 'rejected' ? [{ name: names[index], error: result.reason as Error }] : []));
    const misconfigured = refusals.find(({ error }) => !(error instanceof BrokerUnavailableError));
    if (misconfigured) throw misconfigured.error;
    const failures = refusals.map(({ name, error }) => `${name}: ${error.message}`);
    if (failures.length === names.length) {
      this.status.next({ state: 'down', active: 'none', detail: failures.join('; ') });
      throw new BrokerUnavailableError(this.broker, `nowhere to publish: ${failures.join('; ')}`);
    }
    for (const failure of failures) this.logger.warn(`Started without ${failure}; retrying in the background`);
    this.started = true;
    this.monitor = setInterval(() => this.tick(), FAILOVER_PROBE_INTERVAL_MS);
    this.monitor.unref();
    this.refreshStatus();
    void this.forwarder.kick();
  }

  close(): Promise<void> {
    return this.closeOnce(() => this.shutdown());
  }

  /** New work is refused at once; the outbox gets a bounded chance to reach a broker; then each part closes, each step guarded. */
  private async shutdown(): Promise<void> {
    clearInterval(this.monitor);
    const steps: Array<[string, () => Promise<unknown> | void]> = [
      ['forward the outbox', () => (this.links.some((link) => link.isAvailable) ? this.forwarder.flush(FAILOVER_CLOSE_FLUSH_TIMEOUT_MS) : undefined)],
      [`close ${this.primary.name}`, () => this.primary.close()],
      [`close ${this.fallback.name}`, () => this.fallback.close()],
    ];
    for (const [step, run] of steps) {
      try {
        await run();
      } catch (error) {
        this.logger.warn(`Close: ${step} failed: ${(error as Error).message}`);
      }
    }
    const kept = this.outbox.size;
    try {
      this.outbox.close();
    } catch (error) {
      this.logger.warn(`Close: closing the outbox failed: ${(error as Error).message}`);
    }
    if (kept > 0) this.logger.warn(`Closed with ${kept} item(s) kept in the outbox at ${this.outbox.path}; they are forwarded after the next connect`);
  }

  /**
   * Declares the queue on each available broker (RabbitMQ's quorum queues then exist long before an
   * outage needs them). A broker unavailable now declares it on first use. A declaration that fails
   * does not take a broker out of service: a JetStream stream electing its leader refuses it for
   * seconds while the broker works, and the publish or pull that follows decides, within its bound.
   */
  async ensureQueue(priority: Priority, domain: string): Promise<void> {
    const results = await Promise.allSettled(
      this.available().map((link) => link.call((transport) => transport.ensureQueue(priority, domain), { timeoutMs: this.boundFor(link), detectsOutage: false })),
    );
    const refusal = results.find((result): result is PromiseRejectedResult => result.status === 'rejected' && !(result.reason instanceof BrokerUnavailableError));
    if (refusal) throw refusal.reason;
  }

  /** @throws OutboxFullError, BrokerUnavailableError (outbox unusable), QueueFullError and validation errors from the broker. */
  async publish(item: WorkItem): Promise<PublishReceipt> {
    this.assertNotClosed();
    const receipt = await this.publishToBroker(item);
    if (receipt) return receipt;
    try {
      await this.outbox.append(item);
    } catch (error) {
      if (error instanceof OutboxFullError) throw error;
      throw new BrokerUnavailableError(this.broker, `no place took item ${item.id}: ${this.unavailability()}; ${(error as Error).message}`, { cause: error });
    }
    this.outboxPublishes++;
    return { id: item.id, broker: 'outbox', duplicate: false };
  }

  /**
   * Schedules and their leadership stay on the primary: one leader needs one broker deciding it.
   * While the primary is down no instance holds the lease, so ticks pause until it returns.
   */
  override scheduleCoordination(leaseMs: number): ScheduleCoordination | undefined {
    return this.primary.transport.scheduleCoordination(leaseMs);
  }

  /**
   * Group limits are written to both brokers, the primary first, so each enforces them while the
   * other is down: NATS for what it holds, RabbitMQ for the grouped items published to it during an
   * outage. With either broker down the change is refused (nothing is stored only where the other
   * broker would not find it later); a refusal after the primary took it leaves the brokers apart
   * until the call is retried, which is idempotent.
   * @throws BrokerUnavailableError naming the broker that is down.
   */
  override async setGroupLimits(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    await this.primary.call((transport) => transport.setGroupLimits(domain, group, limits), { detectsOutage: false });
    await this.fallback.call((transport) => transport.setGroupLimits(domain, group, limits), { detectsOutage: false });
  }

  /** From the primary while it takes publishes, else from the fallback, which then holds the grouped items published meanwhile. */
  override listGroups(domain: string, filter: GroupFilter): Promise<GroupPage> {
    const link = this.primary.isAvailable || !this.fallback.isPullable ? this.primary : this.fallback;
    return link.call((transport) => transport.listGroups(domain, filter), { detectsOutage: false });
  }

  /** The fleet and its coordinator lease on both brokers, read from the primary while it is available (see failover-fleet.ts). */
  override fleetCoordination(settings: FleetSettings): FleetCoordination | undefined {
    const primary = this.primary.transport.fleetCoordination(settings);
    const fallback = this.fallback.transport.fleetCoordination(settings);
    if (!primary || !fallback) return primary ?? fallback;
    return failoverFleet(primary, fallback, () => this.primary.isAvailable);
  }

  /** The first available broker that takes the item, primary first; undefined when none did. */
  private async publishToBroker(item: WorkItem): Promise<PublishReceipt | undefined> {
    for (const link of this.available()) {
      try {
        return await link.publish(item);
      } catch (error) {
        if (!(error instanceof BrokerUnavailableError)) throw error;
      }
    }
    return undefined;
  }

  /**
   * Takes what is ready on each available broker (see pullReady for the order); with nothing ready, waits in
   * slices on the broker taking publishes (new work arrives there) and looks at the other between.
   * @throws BrokerUnavailableError when no broker can be pulled from.
   */
  async pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    if (this.isClosing || max < 1) return [];
    const deadline = performance.now() + Math.max(0, options.waitMs);
    for (;;) {
      const links = this.pullable();
      if (links.length === 0) throw new BrokerUnavailableError(this.broker, `no broker to pull from: ${this.unavailability()}`);
      const ready = await this.pullReady(links, queue, max, options);
      if (ready.length > 0) return ready;
      const remaining = deadline - performance.now();
      if (remaining <= 0 || this.isClosing || options.signal?.aborted) return [];
      const waitOn = links[0];
      const waited = await waitOn
        .call((transport) => transport.pull(queue, max, { ...options, waitMs: Math.min(remaining, FAILOVER_PULL_WAIT_SLICE_MS) }))
        .catch((error: unknown) => {
          if (error instanceof BrokerUnavailableError) return [];
          throw error;
        });
      if (waited.length > 0) return waited.map((delivery) => wrapDelivery(waitOn.name, delivery));
      if (this.isClosing) return [];
    }
  }

  /**
   * Takes turns on which broker a pull reads first: items left on the fallback by an outage come
   * out between the primary's instead of waiting behind its whole backlog.
   */
  private async pullReady(links: BrokerLink[], queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    const deliveries: TransportDelivery[] = [];
    const failures: BrokerUnavailableError[] = [];
    const first = this.pullTurn++ % links.length;
    for (const link of [...links.slice(first), ...links.slice(0, first)]) {
      if (deliveries.length >= max) break;
      try {
        const pulled = await link.call((transport) => transport.pull(queue, max - deliveries.length, { ...options, waitMs: 0 }));
        deliveries.push(...pulled.map((delivery) => wrapDelivery(link.name, delivery)));
      } catch (error) {
        if (!(error instanceof BrokerUnavailableError)) throw error;
        failures.push(error);
      }
    }
    if (failures.length === links.length) throw new BrokerUnavailableError(this.broker, `no broker answered the pull: ${failures.map((error) => error.message).join('; ')}`);
    return deliveries;
  }

  ack(ref: LeaseRef): Promise<void> {
    return this.settle(ref, (transport, inner) => transport.ack(inner));
  }

  retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): Promise<void> {
    return this.settle(ref, (transport, inner) => transport.retry(inner, delayMs, headers));
  }

  extendLease(ref: LeaseRef, leaseMs: number): Promise<number> {
    return this.settle(ref, (transport, inner) => transport.extendLease(inner, leaseMs));
  }

  deliveryAttempts(ref: LeaseRef): Promise<number> {
    return this.settle(ref, (transport, inner) => transport.deliveryAttempts(inner));
  }

  /** The broker named in the lease, which may not be the one taking publishes now. @throws LeaseExpiredError for a lease no failover pull handed out. */
  override brokerOf(ref: LeaseRef): BrokerName {
    const { link, inner } = this.delivering(ref);
    return link.transport.brokerOf(inner);
  }

  deadLetter(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    return this.settle(ref, (transport, inner) => transport.deadLetter(inner, reason, error));
  }

  /** Sends a settle to the broker that delivered the item, available or not: only it can settle it. */
  private async settle<T>(ref: LeaseRef, operation: (transport: KanbanTransport, inner: LeaseRef) => Promise<T>): Promise<T> {
    const { link, inner } = this.delivering(ref);
    return link.call((transport) => operation(transport, inner), { detectsOutage: false });
  }

  /** The link of the broker named in the lease, and that broker's own lease. @throws LeaseExpiredError */
  private delivering(ref: LeaseRef): { link: BrokerLink; inner: LeaseRef } {
    const { broker, ref: inner } = unwrapLease(ref);
    const link = this.links.find((candidate) => candidate.name === broker);
    if (!link) throw new LeaseExpiredError(ref.id, ref.domain);
    return { link, inner };
  }

  /** Sweeps each available broker (an unavailable one is swept once it is back); throws only when every one of them failed. */
  async sweepStalled(stalledAfterMs: number): Promise<DeadLetter[]> {
    if (this.available().length === 0) return [];
    const results = await this.onEachAvailable((transport) => transport.sweepStalled(stalledAfterMs), false);
    return results.flat();
  }

  /** Rows of each broker that can be pulled from plus the outbox's, each labelled with where the items are. */
  async depth(): Promise<QueueDepth[]> {
    const settled = await Promise.allSettled(this.pullable().map((link) => link.call((transport) => transport.depth())));
    const answers = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (answers.length === 0 && !this.outbox.isOpen) throw new BrokerUnavailableError(this.broker, `no depth to report: ${this.unavailability()}`);
    return [...answers.flat(), ...this.outbox.depth()];
  }

  /** The primary's letters, then the fallback's, each oldest first; see listChained. */
  async listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    return listChained(this.links.length, filter, filter.limit ?? DEAD_LETTER_DEFAULT_LIMIT, async (index, inner) => {
      const link = this.links[index];
      if (!link.isAvailable) return undefined;
      try {
        return await link.call((transport) => transport.listDeadLetters(inner), { detectsOutage: false });
      } catch (error) {
        if (error instanceof BrokerUnavailableError) return undefined;
        throw error;
      }
    });
  }

  /**
   * From the primary, else the fallback.
   * @throws DeadLetterNotFoundError when every broker answered without it; BrokerUnavailableError when one that did not answer may hold it.
   */
  async getDeadLetter(id: string): Promise<DeadLetter> {
    for (const link of this.available()) {
      try {
        return await link.call((transport) => transport.getDeadLetter(id), { detectsOutage: false });
      } catch (error) {
        if (!(error instanceof DeadLetterNotFoundError || error instanceof BrokerUnavailableError)) throw error;
      }
    }
    throw this.notFound(id);
  }

  /** Deletes the dead letter from every broker holding it (an item copied across a switch may be on both). */
  async deleteDeadLetter(id: string): Promise<void> {
    let deleted = false;
    for (const link of this.available()) {
      try {
        await link.call((transport) => transport.deleteDeadLetter(id), { detectsOutage: false });
        deleted = true;
      } catch (error) {
        if (!(error instanceof DeadLetterNotFoundError || error instanceof BrokerUnavailableError)) throw error;
      }
    }
    if (!deleted) throw this.notFound(id);
  }

  private notFound(id: string): DeadLetterNotFoundError | BrokerUnavailableError {
    const unanswered = this.links.filter((link) => !link.isAvailable);
    if (unanswered.length === 0) return new DeadLetterNotFoundError(id);
    return new BrokerUnavailableError(this.broker, `dead letter ${id} is not on the brokers that answered, and ${this.unavailability()}`);
  }

  /**
   * Runs `operation` on each available broker. A broker that fails for lack of availability is left
   * out; a refusal of another kind, or failure of all, is thrown.
   */
  private async onEachAvailable<T>(operation: (transport: KanbanTransport) => Promise<T>, detectsOutage: boolean): Promise<T[]> {
    const links = this.available();
    if (links.length === 0) throw new BrokerUnavailableError(this.broker, this.unavailability());
    const settled = await Promise.allSettled(links.map((link) => link.call(operation, { detectsOutage })));
    const values = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (values.length === 0) throw failures[0];
    const refusal = failures.find((error) => !(error instanceof BrokerUnavailableError));
    if (refusal) throw refusal;
    return values;
  }

  private available(): BrokerLink[] {
    return this.links.filter((link) => link.isAvailable);
  }

  /** Brokers to pull from: those taking publishes and those that only refuse publishes (a resource alarm), whose queues must drain. */
  private pullable(): BrokerLink[] {
    return this.links.filter((link) => link.isPullable);
  }

  /** The primary is held to the publish bound for every call a publish waits on (a queue declaration while frozen would take its API timeout). */
  private boundFor(link: BrokerLink): number | undefined {
    return link === this.primary ? this.publishTimeoutMs : undefined;
  }

  private unavailability(): string {
    const down = this.links.filter((link) => !link.isAvailable).map((link) => `${link.name} unavailable (${link.unavailableReason})`);
    return down.length > 0 ? down.join(', ') : 'every broker is available';
  }

  private tick(): void {
    for (const link of this.links) link.tick();
    if (this.outbox.size > 0 && this.available().length > 0) void this.forwarder.kick();
  }

  /** Publishes one status per change of where publishes go (TransportLifecycle logs each as one line and sets the active-broker metric). */
  private refreshStatus(): void {
    if (this.isClosing || !this.started) return;
    const next = this.nextStatus();
    const current = this.status.value;
    if (current.state === next.state && current.active === next.active && current.detail === next.detail) return;
    if (current.active !== next.active && current.state !== 'connecting') this.switchCount++;
    this.status.next(next);
    if (this.outbox.size > 0 && this.available().length > 0) void this.forwarder.kick();
  }

  private nextStatus(): TransportStatus {
    const { primary, fallback } = this;
    if (primary.isAvailable) {
      return fallback.isAvailable ? { state: 'up', active: primary.name } : { state: 'up', active: primary.name, detail: `fallback ${fallback.name} unavailable (${fallback.unavailableReason})` };
    }
    if (fallback.isAvailable) return { state: 'degraded', active: fallback.name, detail: `${primary.name} unavailable (${primary.unavailableReason}); publishing to ${fallback.name}` };
    if (this.outbox.isOpen) return { state: 'degraded', active: 'outbox', detail: `${primary.name} and ${fallback.name} unavailable; publishes wait in the outbox at ${this.outbox.path}` };
    return { state: 'down', active: 'none', detail: this.unavailability() };
  }
}
