import { Logger } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { encodeItem, newItemId, withHeaders } from '../../codec';
import { BrokerUnavailableError, KanbanConfigError, KanbanValidationError, LeaseExpiredError, TopologyConflictError, type FieldError } from '../../errors';
import { GROUP_PAGE_DEFAULT_LIMIT, type GroupFilter, type GroupLimits, type GroupPage, type GroupState } from '../../interfaces/group.interface';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterReason,
  type LeaseRef,
  type Priority,
  type PublishReceipt,
  type PullOptions,
  type QueueDepth,
  type QueueRef,
  type RabbitMqConnectionOptions,
  type TransportDelivery,
  type WorkItem,
} from '../../interfaces';
import { PRIORITIES } from '../../kanban.constants';
import type { ScheduleCoordination } from '../../scheduler/schedule-coordination.interface';
import { KanbanTransport, type TransportSettings, type TransportStatus } from '../../transport';
import { domainError, priorityError } from '../../validation';
import { RabbitMqConnection } from './rabbitmq-connection';
import { RabbitMqFleetMembership } from './rabbitmq-fleet-membership';
import { RabbitMqLeaseLeadership } from './rabbitmq-lease-leadership';
import type { FleetCoordination, FleetSettings } from '../../transport/fleet-membership.interface';
import { RabbitMqControlChannel } from './rabbitmq-control-channel';
import { deadLetterRecord } from './rabbitmq-dead-letter-record';
import { RabbitMqDeadLetterStore } from './rabbitmq-dead-letter-store';
import { RabbitMqDelayLadder } from './rabbitmq-delay-ladder';
import { RabbitMqGroupLimits } from './rabbitmq-group-limits';
import { RabbitMqGroupSpills } from './rabbitmq-group-spills';
import { RabbitMqSpillRegistry } from './rabbitmq-spill-registry';
import { decodeGroupCursor, encodeGroupCursor } from './rabbitmq-group-cursor';
import { RabbitMqHoldings, type Holding, type Lease } from './rabbitmq-holdings';
import { RabbitMqIdempotencyWindow } from './rabbitmq-idempotency-window';
import { copyHeaders } from './rabbitmq-message';
import { RabbitMqNames } from './rabbitmq-names';
import { RabbitMqPublisher } from './rabbitmq-publisher';
import { RabbitMqPuller } from './rabbitmq.puller';
import { RabbitMqScheduleLeadership } from './rabbitmq-schedule-leadership';
import { RabbitMqScheduleStore } from './rabbitmq-schedule-store';
import type { ConsumedMessage } from './rabbitmq-queue-consumer';
import { RabbitMqTopology } from './rabbitmq-topology';
import { rabbitMqEndpoint } from './rabbitmq-url';
import { RABBITMQ_CLOSE_STEP_TIMEOUT_MS, RABBITMQ_CONSUMER_IDLE_MS, RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS, RABBITMQ_HEADERS } from './rabbitmq.constants';

/**
 * RabbitMQ transport: durable quorum queues `kanban.{priority}.{domain}` (optionally prefixed),
 * publisher confirms, manual acks.
 *
 * - Leases: RabbitMQ has none; a delivery stays unacknowledged on its channel until settled. The
 *   transport runs the lease: a token per delivery and an expiry (one timer for all leases); a lapse rejects the message with
 *   requeue (the broker counts that delivery, so it comes back as attempts + 1) and voids the token.
 *   On the last attempt the message is kept instead, unacknowledged and fenced, until `sweepStalled`
 *   dead-letters it as `stalled`.
 * - Retry delays: a copy carrying its attempt count (`x-kanban-attempts-before`) and due time goes
 *   to the broker's delay ladder (RabbitMqDelayLadder), then the original is acked: a delayed item
 *   holds no consumer credit and no unacknowledged delivery, survives the instance that retried it,
 *   and comes back as the next attempt. A retry without delay rejects with requeue (the broker
 *   counts it); on the last attempt it republishes a copy instead, since the broker would
 *   dead-letter the original.
 * - Attempts: `x-kanban-attempts-before` + the broker's return count (`x-delivery-count`, or
 *   `x-acquired-count` on 4.3+) + 1. The queue's `x-delivery-limit` is maxAttempts − 1, so a message
 *   whose consumers keep dying is dead-lettered by the broker into the intake queue, and the next
 *   sweep records it as `stalled`.
 * - Prefetched messages nobody pulled are given back by republishing a copy and acking the original
 *   (on close, or when a queue is left idle), because RabbitMQ 3.x counts every requeue as a delivery.
 * - Full queues: the broker enforces `x-max-length` on ready messages only (prefetched ones do not
 *   count), refuses with a publisher nack (QueueFullError), admits as many extra messages as were in
 *   flight when it filled up, and accepts again only once the queue is below 80 % of the limit.
 * - Idempotency keys are remembered by this instance only (RabbitMQ has no deduplication).
 * - Dead letters: see RabbitMqDeadLetterStore. Depth: the broker's ready count, the queue's delayed
 *   retries (its tally queue) and what this transport holds; other processes' unacknowledged
 *   deliveries are not visible without the management plugin.
 * - Connections: one publishes, the other consumes, acks and reads, so a resource alarm (the broker
 *   stops reading from connections that publish) refuses publishes (BrokerBlockedError) but not
 *   pulls and acks; status is then `degraded` with `active: 'none'`.
 * - RabbitMQ closes a channel holding a delivery longer than its `consumer_timeout` (30 min by
 *   default): keep leases and the stall limit below it.
 * - Groups: a grouped item goes to the grouped queue of its (priority, domain), which has a single
 *   active consumer; the instance holding it hands its items out fairly with the groups' caps and
 *   rates (RabbitMqGroupHandOut); run-time limits live in a stream (RabbitMqGroupLimits).
 */
export class RabbitMqTransport extends KanbanTransport {
  readonly broker = 'rabbitmq';
  private readonly logger = new Logger(RabbitMqTransport.name);
  private readonly names: RabbitMqNames;
  override readonly controlChannel: RabbitMqControlChannel;
  /** Consumers, acks, declarations and reads. Apart from publishing, so a resource alarm (the broker stops reading from connections that publish) leaves pulls and acks working. */
  private readonly consuming: RabbitMqConnection;
  private readonly publishing: RabbitMqConnection;
  /** The consuming connection is up and its topology declared. */
  private ready = false;
  /** Why the consuming side is down or its topology failed, while it is. */
  private consumeTrouble?: { state: 'down' | 'degraded'; detail: string };
  /** Why the publishing connection is down, while it is. */
  private publishTrouble?: string;
  /** The broker's resource alarm, while it blocks publishing. */
  private blockedBy?: string;
  private readonly publisher: RabbitMqPublisher;
  private readonly topology: RabbitMqTopology;
  private readonly deadLetters: RabbitMqDeadLetterStore;
  private readonly idempotency: RabbitMqIdempotencyWindow;
  private readonly ladder: RabbitMqDelayLadder;
  private readonly puller: RabbitMqPuller;
  /** Retries moving an item into the delay ladder, by work queue: depth waits for them. */
  private readonly delaysInProgress = new Map<string, Set<Promise<void>>>();
  private readonly declared = new Map<string, Promise<void>>();
  /** (priority → domains) whose work queue is declared: the fast path of ensureQueue. Follows `declared`. */
  private readonly ensured = new Map<Priority, Set<string>>();
  private readonly knownQueues = new Map<string, { priority: Priority; domain: string }>();
  /** Grouped queues declared with their work queue (by name): the puller's fast path. */
  private readonly knownGroupQueues = new Set<string>();
  private readonly groupLimits: RabbitMqGroupLimits;
  private readonly spills: RabbitMqGroupSpills;
  private readonly spillRegistry: RabbitMqSpillRegistry;
  /** Queues whose last basic.consume went unanswered, with the error: they keep the transport 'degraded'. */
  private readonly unanswered = new Map<string, string>();
  private readonly holdings = new RabbitMqHoldings((lease) => this.onLeaseLapsed(lease));
  /** The publishing connection while it is open: the fleet's channels live on it, as the relay's do. */
  private publishingModel?: ChannelModel;
  private fleet?: { membership: RabbitMqFleetMembership; leadership: RabbitMqLeaseLeadership };
  private readonly scheduleStore: RabbitMqScheduleStore;
  private readonly scheduleLeadership: RabbitMqScheduleLeadership;
  /** Set once the scheduler asked for coordination: from then on each connection declares the schedule queues first. */
  private schedulesWanted = false;

  /** @throws KanbanConfigError for a URL that is not amqp:// or amqps://, or a releaseIdleAfterMs that is not > 0. */
  constructor(
    options: RabbitMqConnectionOptions,
    private readonly settings: TransportSettings,
  ) {
    super();
    const endpoint = rabbitMqEndpoint(options);
    const releaseIdleAfterMs = options.releaseIdleAfterMs ?? RABBITMQ_CONSUMER_IDLE_MS;
    if (!Number.isFinite(releaseIdleAfterMs) || releaseIdleAfterMs <= 0) {
      throw new KanbanConfigError('rabbitmq.releaseIdleAfterMs', `must be a number of milliseconds > 0, got ${JSON.stringify(options.releaseIdleAfterMs)}`);
    }
    this.names = new RabbitMqNames(options.queuePrefix);
    this.controlChannel = new RabbitMqControlChannel(this.names, this.logger);
    this.publisher = new RabbitMqPublisher(options.publishTimeoutMs ?? RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS, this.logger);
    this.topology = new RabbitMqTopology(this.names, settings, this.logger);
    this.deadLetters = new RabbitMqDeadLetterStore(this.names, settings, this.publisher, this.logger, () => this.topology.declareDeadLetterLog());
    this.idempotency = new RabbitMqIdempotencyWindow(settings.dedupWindowMs);
    this.ladder = new RabbitMqDelayLadder(this.names, this.topology, this.publisher, this.logger);
    this.scheduleStore = new RabbitMqScheduleStore(this.names, this.publisher, this.logger, () => this.topology.declareSchedules());
    this.scheduleLeadership = new RabbitMqScheduleLeadership(this.names, this.publisher, () => this.topology.declareSchedules());
    this.groupLimits = new RabbitMqGroupLimits(this.names, settings.groups, this.publisher, this.logger, () => this.topology.declareGroupLimits());
    this.spillRegistry = new RabbitMqSpillRegistry(
      this.names,
      this.publisher,
      this.logger,
      () => this.topology.declareGroupSpills(),
      () => [...this.spills.openQueues(), ...this.puller.spillsHeld()],
    );
    this.spills = new RabbitMqGroupSpills(this.names, this.topology, this.publisher, this.logger, (spill) => this.spillRegistry.announce(spill));
    this.consuming = new RabbitMqConnection(
      endpoint,
      {
        onConnected: (model) => this.onConsumingConnected(model),
        onDisconnected: (reason) => this.onConsumingDisconnected(reason),
        onBlocked: (blocked, reason) => this.onBlocked(blocked, reason),
      },
      this.logger,
    );
    this.publishing = new RabbitMqConnection(
      endpoint,
      {
        onConnected: (model) => this.onPublishingConnected(model),
        onDisconnected: (reason) => this.onPublishingDisconnected(reason),
        onBlocked: (blocked, reason) => this.onBlocked(blocked, reason),
      },
      this.logger,
    );
    this.puller = new RabbitMqPuller(
      this.names,
      settings,
      this.topology,
      this.holdings,
      {
        isClosing: () => this.isClosing,
        ensureQueue: (priority, domain) => this.ensureQueue(priority, domain),
        isDeclared: (queue) => this.knownQueues.has(queue) || this.knownGroupQueues.has(queue),
        onUnanswered: (queue, message) => this.noteUnanswered(queue, message),
        onAnswered: (queue) => this.noteAnswered(queue),
        handBackCopy: (delivery, attemptsBefore) => this.replaceWithCopy(delivery, attemptsBefore, 'release'),
        groupLimits: (domain, group) => this.groupLimits.effective(domain, group).limits,
        groupLimitsKnown: () => this.groupLimits.known(),
      },
      this.logger,
      releaseIdleAfterMs,
    );
  }

  /**
   * The fleet as heartbeats on a fanout exchange, each instance reading them from its own queue;
   * the coordinator lease as an exclusive queue the broker deletes with its holder's connection
   * (see rabbitmq-fleet-membership.ts, rabbitmq-lease-leadership.ts). One per transport: later
   * calls get the first one.
   */
  override fleetCoordination(settings: FleetSettings): FleetCoordination {
    if (!this.fleet) {
      this.fleet = {
        membership: new RabbitMqFleetMembership(this.names, settings.memberTtlMs, this.logger),
        leadership: new RabbitMqLeaseLeadership(this.names.coordinatorLeaderQueue, 'Coordinator leadership', settings.leaseMs, this.logger),
      };
      if (this.publishingModel) {
        this.fleet.membership.attach(this.publishingModel);
        this.fleet.leadership.attach(this.publishingModel);
      }
    }
    return this.fleet;
  }

  /**
   * Opens the consuming and the publishing connection and declares the exchanges, the dead-letter
   * queues and the delay ladder's due queue. When the broker cannot be reached it
   * rejects, and keeps reconnecting in the background (status$ says so).
   * @throws BrokerUnavailableError, TopologyConflictError
   */
  connect(): Promise<void> {
    return this.connectOnce(() => this.open());
  }

  private async open(): Promise<void> {
    const [consuming, publishing] = await Promise.allSettled([this.consuming.start(), this.publishing.start()]);
    if (consuming.status === 'rejected' && !this.consuming.isConnected) this.consumeTrouble = { state: 'down', detail: `${(consuming.reason as Error).message}; reconnecting` };
    if (publishing.status === 'rejected' && !this.publishing.isConnected) this.publishTrouble = `${(publishing.reason as Error).message}; reconnecting`;
    if (consuming.status === 'rejected') throw consuming.reason;
    if (publishing.status === 'rejected') throw publishing.reason;
    this.refreshStatus();
  }

  /** The connections' own account: a broker that refused the topology is degraded, one that came back meanwhile is up. */
  protected override statusAfterFailedOpen(): TransportStatus {
    return this.derivedStatus();
  }

  close(): Promise<void> {
    return this.closeOnce(() => this.shutdown());
  }

  async ensureQueue(priority: Priority, domain: string): Promise<void> {
    // Declared already (and so validated): nothing to do, one map lookup per publish.
    const ready = this.ensured.get(priority)?.has(domain);
    if (ready) return;
    const invalid = [
      { field: 'priority', message: priorityError(priority) },
      { field: 'domain', message: domainError(domain) },
    ].filter((error): error is FieldError => error.message !== undefined);
    if (invalid.length > 0) throw new KanbanValidationError(invalid);
    const name = this.names.workQueue(priority, domain);
    let declaring = this.declared.get(name);
    if (!declaring) {
      declaring = this.topology.declareWorkQueue(priority, domain);
      this.declared.set(name, declaring);
      declaring.then(
        () => {
          this.knownQueues.set(name, { priority, domain });
          this.knownGroupQueues.add(this.names.groupQueue(priority, domain));
          if (this.declared.get(name) === declaring) this.markEnsured(priority, domain);
        },
        () => this.declared.delete(name),
      );
    }
    await declaring;
  }

  async publish(item: WorkItem): Promise<PublishReceipt> {
    this.assertNotClosed();
    const send = (): Promise<void> => this.send(item);
    if (item.idempotencyKey !== undefined) return this.idempotency.publishOnce(item.domain, item.idempotencyKey, item.id, send);
    await send();
    return { id: item.id, broker: this.broker, duplicate: false };
  }

  pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    return this.puller.pull(queue, max, options);
  }

  async ack(ref: LeaseRef): Promise<void> {
    const lease = this.holdings.claim(ref);
    this.holdings.drop(lease);
    if (!lease.delivery.queue.settle(lease.delivery, 'ack')) throw new LeaseExpiredError(ref.id, ref.domain);
  }

  /** A delayed retry goes through the delay ladder as a copy, which takes `headers`; an immediate one is a reject, which redelivers the message as it is. */
  async retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): Promise<void> {
    const lease = this.holdings.claim(ref);
    if (delayMs > 0) {
      const moving = this.fenced(lease, () => this.delay(lease, delayMs, headers));
      const queue = lease.delivery.queue.name;
      let moves = this.delaysInProgress.get(queue);
      if (!moves) this.delaysInProgress.set(queue, (moves = new Set()));
      moves.add(moving);
      try {
        await moving;
      } finally {
        moves.delete(moving);
      }
      return;
    }
    this.holdings.drop(lease);
    if (lease.attempts < this.settings.maxAttempts) {
      lease.delivery.queue.settle(lease.delivery, 'reject');
      return;
    }
    // Requeued, the original would exceed its delivery limit and be dead-lettered by the broker.
    await this.replaceWithCopy(lease.delivery, lease.attempts, 'reject');
  }

  /**
   * Schedules on RabbitMQ's own primitives: definitions and last ticks in streams every instance
   * folds (RabbitMqScheduleStore), leadership as the token of a single-active-consumer queue
   * (RabbitMqScheduleLeadership). The broker decides leadership by the holder's connection, not by
   * a lease, so `leaseMs` is not used.
   */
  override scheduleCoordination(_leaseMs: number): ScheduleCoordination {
    this.schedulesWanted = true;
    return { store: this.scheduleStore, leadership: this.scheduleLeadership };
  }

  /** Items waiting out a retry delay, across every queue and instance (they are in no work queue's depth). */
  async delayed(): Promise<number> {
    this.assertConnected();
    return this.ladder.count();
  }

  /** Grants the whole `leaseMs` (keep it below the broker's consumer_timeout). */
  async extendLease(ref: LeaseRef, leaseMs: number): Promise<number> {
    this.holdings.arm(this.holdings.claim(ref), leaseMs);
    return leaseMs;
  }

  /** The count taken at delivery from the copy's carried attempts and the broker's return count. @throws LeaseExpiredError */
  async deliveryAttempts(ref: LeaseRef): Promise<number> {
    return this.holdings.claim(ref).attempts;
  }

  async deadLetter(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    return this.moveLease(this.holdings.claim(ref), reason, error);
  }

  async sweepStalled(stalledAfterMs: number): Promise<DeadLetter[]> {
    if (!this.consuming.isConnected) return [];
    const moved: DeadLetter[] = [];
    for (const lease of this.holdings.olderThan(stalledAfterMs)) {
      moved.push(await this.moveLease(lease, 'stalled', `unsettled for more than ${stalledAfterMs} ms after delivery`));
    }
    const exhausted = this.holdings.takeExhausted();
    for (const [index, holding] of exhausted.entries()) {
      try {
        moved.push(await this.moveToDeadLetters(holding, 'stalled', `lease lapsed on the last attempt (${holding.attempts} of ${this.settings.maxAttempts})`));
      } catch (error) {
        for (const unmoved of exhausted.slice(index)) if (unmoved.delivery.queue.owns(unmoved.delivery)) this.holdings.exhaust(unmoved);
        throw error;
      }
    }
    moved.push(...(await this.deadLetters.drainIntake()));
    if (moved.length > 0) this.logger.warn(`Dead-lettered ${moved.length} stalled item(s): ${moved.map((d) => d.id).join(', ')}`);
    return moved;
  }

  async depth(): Promise<QueueDepth[]> {
    this.assertConnected();
    const rows: QueueDepth[] = [];
    const known = [...this.knownQueues.entries()].sort(([, a], [, b]) => a.domain.localeCompare(b.domain) || PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority));
    for (const [name, { priority, domain }] of known) {
      // An item on its way into the delay ladder is in its tally and still leased for a moment: wait for those moves.
      await Promise.allSettled([...(this.delaysInProgress.get(name) ?? [])]);
      const ready = await this.topology.readyCount(name);
      if (ready === undefined) continue;
      const delayed = await this.ladder.delayedIn(priority, domain);
      const groupQueue = this.names.groupQueue(priority, domain);
      const grouped = (await this.topology.counts(groupQueue)) ?? { ready: 0, consumers: 0 };
      const spills = await this.spilledReady(priority, domain);
      const spilled = [...spills.values()].reduce((sum, count) => sum + count, 0);
      // Each spill queue's marker waits in the grouped queue; with no consumer there, it is among the ready messages.
      const groupedReady = Math.max(0, grouped.ready - (grouped.consumers === 0 ? spills.size : 0));
      const consumers = [this.puller.consumerOf(name), this.puller.consumerOf(groupQueue)];
      const buffered = consumers.reduce((sum, consumer) => sum + (consumer?.buffered ?? 0), 0);
      const inFlight = consumers.reduce((sum, consumer) => sum + this.holdings.inFlightOf(consumer), 0);
      rows.push({ broker: this.broker, priority, domain, ready: ready + groupedReady + spilled + buffered + delayed, inFlight });
    }
    return rows;
  }

  /** Ready items of each spill queue of (priority, domain) that exists: those the fleet announced, feeds or holds here. */
  private async spilledReady(priority: Priority, domain: string): Promise<Map<string, number>> {
    const mine = [...this.spills.openQueues(), ...this.puller.spillsHeld()].filter((spill) => spill.priority === priority && spill.domain === domain).map((spill) => spill.queue);
    const counts = new Map<string, number>();
    for (const queue of new Set([...this.spillRegistry.queuesOf(priority, domain), ...mine])) {
      const ready = await this.topology.readyCount(queue);
      if (ready === undefined) this.spillRegistry.forget(queue);
      else counts.set(queue, ready);
    }
    return counts;
  }

  /**
   * Kept in the stream `kanban.group-limits` (every instance folds it); resolves once this
   * instance applied the change. @throws KanbanValidationError, BrokerUnavailableError
   */
  override async setGroupLimits(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    this.assertConnected();
    await this.groupLimits.set(domain, group, limits);
  }

  /**
   * The groups of `domain` this instance holds items of (as the active consumer of a grouped
   * queue: buffered are `ready`, leased are `inFlight`) and those with run-time limits, by name.
   * A bursting group's spill queues add their ready items to its `ready`. Other items still in
   * the grouped queue beyond the consumer's prefetch, or held by another instance, are not
   * attributed to a group (RabbitMQ counts a queue, not its groups).
   * @throws KanbanValidationError for a bad domain, limit or cursor; BrokerUnavailableError
   */
  override async listGroups(domain: string, filter: GroupFilter): Promise<GroupPage> {
    this.assertConnected();
    const limit = filter.limit ?? GROUP_PAGE_DEFAULT_LIMIT;
    const invalid = [
      { field: 'domain', message: domainError(domain) },
      { field: 'limit', message: Number.isInteger(limit) && limit >= 1 ? undefined : 'must be an integer >= 1' },
    ].filter((error): error is FieldError => error.message !== undefined);
    if (invalid.length > 0) throw new KanbanValidationError(invalid);
    const after = filter.cursor === undefined ? undefined : decodeGroupCursor(filter.cursor);
    await this.groupLimits.caughtUp();
    const counts = new Map<string, { ready: number; inFlight: number }>();
    for (const priority of PRIORITIES) {
      const spillPrefix = `${this.names.groupQueue(priority, domain)}.spill.`;
      for (const [queue, ready] of await this.spilledReady(priority, domain)) {
        const group = queue.slice(spillPrefix.length).split('.')[0];
        const count = counts.get(group) ?? { ready: 0, inFlight: 0 };
        count.ready += ready;
        counts.set(group, count);
      }
      const consumer = this.puller.consumerOf(this.names.groupQueue(priority, domain));
      if (!consumer) continue;
      const buffered = new Map<string, number>();
      for (const delivery of consumer.bufferedView) buffered.set(delivery.group ?? '', (buffered.get(delivery.group ?? '') ?? 0) + 1);
      for (const group of consumer.groupsHeld()) {
        const count = counts.get(group) ?? { ready: 0, inFlight: 0 };
        const ready = buffered.get(group) ?? 0;
        count.ready += ready;
        count.inFlight += consumer.unsettledOf(group) - ready;
        counts.set(group, count);
      }
    }
    for (const group of this.groupLimits.overrides(domain).keys()) if (!counts.has(group)) counts.set(group, { ready: 0, inFlight: 0 });
    const names = [...counts.keys()].filter((group) => after === undefined || group > after).sort();
    const page = names.slice(0, limit);
    const items: GroupState[] = page.map((group) => ({ group, ...(counts.get(group) as { ready: number; inFlight: number }), ...this.groupLimits.effective(domain, group) }));
    return { items, ...(names.length > limit ? { nextCursor: encodeGroupCursor(page[page.length - 1]) } : {}) };
  }

  /** Channels this process holds open for work queues and their grouped queues (one each): queues idle for `releaseIdleAfterMs` hold none. */
  openQueueChannels(): number {
    return this.puller.openChannels();
  }

  async listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    this.assertConnected();
    return this.deadLetters.list(filter);
  }

  async getDeadLetter(id: string): Promise<DeadLetter> {
    this.assertConnected();
    return this.deadLetters.get(id);
  }

  async deleteDeadLetter(id: string): Promise<void> {
    this.assertConnected();
    return this.deadLetters.delete(id);
  }

  /** Idempotent across instances through a claim in the dead-letter log: see RabbitMqDeadLetterStore.replay. */
  override async replayDeadLetter(id: string, rebuild: (letter: DeadLetter) => Promise<WorkItem>): Promise<PublishReceipt> {
    this.assertConnected();
    return this.deadLetters.replay(id, rebuild, (item) => this.publish(item));
  }

  private async send(item: WorkItem): Promise<void> {
    await this.ensureQueue(item.priority, item.domain);
    // Reading the run-time limits starts with the first grouped publish, so the first grouped pull need not wait for it.
    if (item.group !== undefined) this.groupLimits.known();
    const route = item.group === undefined ? { target: this.names.publishTarget(item.priority, item.domain, false) } : this.spills.route(item.priority, item.domain, item.group);
    const { queue } = route.target;
    try {
      await this.publisher.publish(route.target, encodeItem(item), { messageId: item.id, ...(item.group !== undefined ? { headers: { [RABBITMQ_HEADERS.group]: item.group } } : {}) });
      this.spills.sent(route);
      this.puller.consumerOf(queue)?.expectPublished(item.id);
    } catch (error) {
      this.spills.sent(route, error);
      // Unroutable, or a channel closed by the broker (exchange deleted?): the next publish declares the queue again.
      if (error instanceof BrokerUnavailableError) {
        this.declared.delete(this.names.workQueue(item.priority, item.domain));
        this.ensured.get(item.priority)?.delete(item.domain);
      }
      throw error;
    }
  }

  private markEnsured(priority: Priority, domain: string): void {
    let domains = this.ensured.get(priority);
    if (!domains) this.ensured.set(priority, (domains = new Set()));
    domains.add(domain);
  }

  /** A queue that did not answer basic.consume in time: the transport is degraded (not down: the connection and other queues work) until it answers. */
  private noteUnanswered(queue: string, message: string): void {
    if (this.isClosing) return;
    // Every pull waiting on the subscription reports the same failure: log it once until the queue answers.
    if (this.unanswered.get(queue) !== message) this.logger.error(message);
    this.unanswered.set(queue, message);
    this.refreshStatus();
  }

  private noteAnswered(queue: string): void {
    if (this.unanswered.delete(queue)) this.refreshStatus();
  }

  /** A lapse on an earlier attempt requeues the message (counted by the broker); on the last one it waits for the sweep. */
  private onLeaseLapsed(lease: Lease): void {
    if (!lease.delivery.queue.owns(lease.delivery)) return;
    if (lease.attempts >= this.settings.maxAttempts) {
      this.holdings.exhaust(lease);
      this.logger.warn(`Lease on ${lease.id} (${lease.priority}/${lease.domain}) lapsed on its last attempt; the stall sweep dead-letters it`);
      return;
    }
    lease.delivery.queue.settle(lease.delivery, 'reject');
  }

  /** The copy goes to the delay ladder (confirmed) before the original is acked: never in neither place. */
  private async delay(lease: Lease, delayMs: number, headers: Record<string, string> | undefined): Promise<void> {
    const { delivery } = lease;
    const { queue, message } = delivery;
    const content = headers ? withHeaders(message.content, headers) : message.content;
    await this.ladder.delay(
      message,
      { priority: queue.priority, domain: queue.domain },
      lease.attempts,
      delayMs,
      (counted) => {
        lease.countedAsDelayed = counted;
      },
      content,
    );
    // Settled with the broker before retry resolves: a crash right after it must not bring the original back early.
    if (!(await queue.settleAndSync(delivery, 'ack'))) {
      this.logger.warn(`Delayed ${lease.id} but its channel closed before the ack: the original will be delivered again`);
    }
  }

  /**
   * Publishes a copy of the message that carries `attemptsBefore`, then acks the original. If the
   * copy is refused, the original is settled with `fallback` instead: never in neither place.
   */
  private async replaceWithCopy(delivery: ConsumedMessage, attemptsBefore: number, fallback: 'reject' | 'release'): Promise<void> {
    const { message, queue, lane } = delivery;
    // A spill queue's end marker belongs to it; its items go back to the grouped queue, which never goes away.
    const target = delivery.marker && lane.queue !== queue.name ? { exchange: '', routingKey: lane.queue, queue: lane.queue } : this.names.publishTarget(queue.priority, queue.domain, queue.grouped);
    try {
      await this.publisher.publish(target, message.content, {
        messageId: typeof message.properties.messageId === 'string' ? message.properties.messageId : newItemId(),
        headers: copyHeaders(message, attemptsBefore),
      });
    } catch (error) {
      this.logger.warn(`Could not requeue a copy of a message from ${queue.name} (${(error as Error).message}); returning the original`);
      queue.settle(delivery, fallback);
      return;
    }
    queue.settle(delivery, 'ack');
  }

  private moveLease(lease: Lease, reason: DeadLetterReason, error: string | undefined): Promise<DeadLetter> {
    return this.fenced(lease, () => this.moveToDeadLetters(lease, reason, error));
  }

  /** Settles a leased delivery by a move; while it runs the lease is fenced, and a failed move gives it back its remaining time. */
  private async fenced<T>(lease: Lease, move: () => Promise<T>): Promise<T> {
    lease.settling = true;
    try {
      const moved = await move();
      this.holdings.drop(lease);
      return moved;
    } catch (failure) {
      lease.settling = false;
      if (this.holdings.isCurrent(lease)) this.holdings.arm(lease, Math.max(0, lease.expiresAt - performance.now()));
      throw failure;
    }
  }

  /** Record first (confirmed), then ack: a crash in between leaves the item in both places, never in neither. */
  private async moveToDeadLetters(holding: Holding, reason: DeadLetterReason, error: string | undefined): Promise<DeadLetter> {
    const { delivery } = holding;
    const source = { id: holding.id, priority: holding.priority, domain: holding.domain, body: delivery.message.content, malformed: holding.malformed };
    const record = deadLetterRecord(source, reason, error, holding.attempts, Date.now());
    await this.deadLetters.add(record);
    if (!delivery.queue.settle(delivery, 'ack')) {
      this.logger.warn(`Dead-lettered ${holding.id} but its channel closed before the ack: the original will be delivered again`);
    }
    return record.deadLetter;
  }

  private async onConsumingConnected(model: ChannelModel): Promise<void> {
    this.topology.attach(model);
    this.deadLetters.attach(model);
    this.ladder.attach(model);
    this.puller.attach(model);
    this.scheduleStore.attach(model);
    this.groupLimits.attach(model);
    this.spillRegistry.attach(model);
    try {
      await this.topology.declareBase();
      await this.deadLetters.prepare();
      await this.prepareSchedules();
      for (const { priority, domain } of this.knownQueues.values()) await this.topology.declareWorkQueue(priority, domain);
      await this.ladder.start();
    } catch (error) {
      this.consumeTrouble = { state: 'degraded', detail: (error as Error).message };
      this.refreshStatus();
      throw error;
    }
    this.unanswered.clear();
    this.ready = true;
    this.consumeTrouble = undefined;
    this.refreshStatus();
    this.puller.wake();
  }

  /**
   * Declares the schedule queues as the connection opens, long before a kill -9 could strand a
   * quorum queue declared a moment earlier (see the README). Only a conflict stops the connection;
   * a queue that does not answer yet is declared again on first use.
   */
  private async prepareSchedules(): Promise<void> {
    if (!this.schedulesWanted) return;
    try {
      await this.topology.declareSchedules();
    } catch (error) {
      if (error instanceof TopologyConflictError) throw error;
      this.logger.warn(`RabbitMQ schedule queues do not answer yet (${(error as Error).message}): schedules wait until they do`);
    }
  }

  private onConsumingDisconnected(reason: string): void {
    this.ready = false;
    this.topology.detach();
    this.deadLetters.detach();
    this.ladder.detach();
    this.puller.detach();
    this.scheduleStore.detach(`the connection to RabbitMQ was lost (${reason})`);
    this.groupLimits.detach(`the connection to RabbitMQ was lost (${reason})`);
    this.spillRegistry.detach(`the connection to RabbitMQ was lost (${reason})`);
    this.consumeTrouble = { state: 'down', detail: `connection lost (${reason}); reconnecting` };
    this.refreshStatus();
  }

  /**
   * Relayed settles publish requests and answers, so their channel lives on the publishing connection too.
   * So does the schedule leader's token: the broker hands the token on only once it dropped this
   * connection, and from then on nothing the old leader publishes is accepted.
   */
  private async onPublishingConnected(model: ChannelModel): Promise<void> {
    this.publisher.attach(model);
    this.spills.attach(model);
    this.publishTrouble = undefined;
    this.refreshStatus();
    this.publishingModel = model;
    this.fleet?.membership.attach(model);
    this.fleet?.leadership.attach(model);
    this.scheduleLeadership.attach(model);
    await this.controlChannel.attach(model);
  }

  private onPublishingDisconnected(reason: string): void {
    this.publisher.detach();
    this.spills.detach();
    this.controlChannel.detach();
    this.detachFleet();
    this.scheduleLeadership.detach();
    // A new connection starts unblocked; the broker says so again if the alarm is still on.
    this.blockedBy = undefined;
    this.publishTrouble = `publishing connection lost (${reason}); reconnecting`;
    this.refreshStatus();
  }

  /** A resource alarm: publishes are refused at once (pending ones fail, outcome unknown), pulls and acks go on. */
  private onBlocked(blocked: boolean, reason?: string): void {
    this.logger.warn(blocked ? `RabbitMQ blocked publishing: ${reason ?? 'resource alarm'}` : 'RabbitMQ unblocked publishing');
    this.blockedBy = blocked ? (reason ?? 'resource alarm') : undefined;
    if (this.blockedBy) this.publisher.block(this.blockedBy);
    else this.publisher.unblock();
    this.refreshStatus();
  }

  private async shutdown(): Promise<void> {
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['end spill queues', () => this.spills.endAll()],
      ['stop reading the spill queues', async () => this.spillRegistry.detach('the transport is closing')],
      ['cancel consumers', () => this.puller.stop()],
      ['hand back prefetched items', () => this.puller.handBackAll()],
      ['close channels', () => this.puller.closeChannels()],
      ['hand over schedule leadership', () => this.scheduleLeadership.close()],
      ['close connections', () => this.closeConnections()],
    ];
    for (const [step, run] of steps) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${RABBITMQ_CLOSE_STEP_TIMEOUT_MS} ms`)), RABBITMQ_CLOSE_STEP_TIMEOUT_MS);
      });
      try {
        await Promise.race([run(), bound]);
      } catch (error) {
        this.logger.warn(`Close: ${step} failed: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    this.holdings.clear();
    this.scheduleStore.detach('the transport closed');
    this.groupLimits.detach('the transport closed');
    this.spillRegistry.close('the transport closed');
    this.spills.close();
  }

  /** The relay and the fleet let go of the connection first, so the close it causes is not reported as a failure. */
  private closeConnections(): Promise<unknown> {
    this.controlChannel.detach();
    this.detachFleet();
    return Promise.all([this.consuming.close(), this.publishing.close()]);
  }

  private detachFleet(): void {
    this.publishingModel = undefined;
    this.fleet?.membership.detach();
    this.fleet?.leadership.detach();
  }

  /**
   * Down while either connection is; degraded, taking no publishes (`active` none), while the
   * broker blocks publishing; degraded but publishing while a declaration failed or a queue does
   * not answer basic.consume (only that queue is affected); else up.
   */
  private derivedStatus(): TransportStatus {
    const connected = this.ready && this.publishing.isConnected;
    const [unanswered] = this.unanswered.values();
    const trouble = this.consumeTrouble ?? (this.publishTrouble ? { state: 'down' as const, detail: this.publishTrouble } : undefined);
    if (!connected) return trouble ? { state: trouble.state, active: 'none', detail: trouble.detail } : { state: 'connecting', active: 'none' };
    if (this.blockedBy) return { state: 'degraded', active: 'none', detail: `broker blocked publishing (${this.blockedBy}); pulls and acks go on` };
    if (unanswered) return { state: 'degraded', active: this.broker, detail: unanswered };
    return { state: 'up', active: this.broker };
  }

  /** Publishes derivedStatus when it changed; from close() on, status is the lifecycle's. */
  private refreshStatus(): void {
    if (this.isClosing) return;
    const next = this.derivedStatus();
    const current = this.status.value;
    if (current.state !== next.state || current.active !== next.active || current.detail !== next.detail) this.status.next(next);
  }

  private assertConnected(): void {
    this.assertNotClosed();
    if (!this.consuming.isConnected) throw new BrokerUnavailableError('rabbitmq', 'not connected; reconnecting');
  }
}
