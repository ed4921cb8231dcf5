import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { StoredMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { decodeItem, withHeaders } from '../../codec/item-codec';
import { PRIORITIES } from '../../kanban.constants';
import { newItemId } from '../../codec/item-id';
import { BrokerUnavailableError, KanbanConfigError, QueueUnavailableError } from '../../errors';
import type { DeadLetter, DeadLetterFilter, DeadLetterPage, DeadLetterReason } from '../../interfaces/dead-letter.interface';
import type { LeaseRef, PullOptions, QueueRef, TransportDelivery } from '../../interfaces/delivery.interface';
import type { NatsConnectionOptions } from '../../interfaces/kanban-options.interface';
import type { QueueDepth } from '../../interfaces/queue-depth.interface';
import type { Priority, PublishReceipt, WorkItem } from '../../interfaces/work-item.interface';
import { KanbanTransport, type TransportSettings } from '../../transport/kanban-transport';
import {
  NATS_DEFAULT_DELAY_STREAM_MIN_MS,
  NATS_DEFAULT_PUBLISH_TIMEOUT_MS,
  NATS_DEFAULT_REPLICAS,
  NATS_DEFAULT_STREAM_PREFIX,
  NATS_ENVELOPE_OVERHEAD_BYTES,
  NATS_LEASE_SAFETY_MARGIN_MS,
  NATS_JETSTREAM_RECOVERY_CHECKS,
  NATS_RECONNECT_TIME_WAIT_MS,
  NATS_RELEASE_IDLE_AFTER_MS,
  NATS_CLUSTER_RECONNECT_GRACE_MS,
  NATS_PUBLISH_RETRY_INTERVAL_MS,
  NATS_SERVER_PING_TIMEOUT_MS,
  NATS_SWEEP_BATCH,
  NATS_GROUP_MOVER_LEASE_MS,
} from './nats.constants';
import { openNatsConnection, redactServers, serverAnswers, type NatsClients } from './nats-connection';
import { NatsDeadLetters } from './nats-dead-letters';
import { NatsConsumerAlignment } from './nats-consumer-alignment';
import { NatsDeliveryVerifier } from './nats-delivery-verifier';
import { NatsDeclaredQueues } from './nats-declared-queues';
import { NatsDepth } from './nats-depth';
import { NatsDelays } from './nats-delays';
import { brokerError, findCause, jsApiCode, JS_ERR, mayAnswerSoon } from './nats-errors';
import { errors as natsErrors } from './nats-client';
import { NatsControlChannel } from './nats-control-channel';
import { NatsLeaseRegistry, parseAckSubject, type LapseAction, type NatsDeliveryInfo, type TrackedLease } from './nats-lease';
import { NatsNames } from './nats-names';
import { NatsPublisher } from './nats-publisher';
import { NatsPuller } from './nats-puller';
import { NatsReplies } from './nats-replies';
import { ACK, IN_PROGRESS, nak, TERM } from './nats-settle-verbs';
import { pullReady } from './nats-pull';
import { NatsTopology } from './nats-topology';
import { NatsLeaseLeadership } from './nats-lease-leadership';
import { NatsFleetMembership } from './nats-fleet-membership';
import type { FleetCoordination, FleetSettings } from '../../transport/fleet-membership.interface';
import { NatsScheduleStore } from './nats-schedule-store';
import { NatsGroupAdmission } from './nats-group-admission';
import { NatsGroupLimits } from './nats-group-limits';
import { NatsGroupListing } from './nats-group-listing';
import { NatsGroupMover } from './nats-group-mover';
import { groupOf } from './nats-group-of';
import { NatsGroupRate } from './nats-group-rate';
import type { GroupFilter, GroupLimits, GroupPage } from '../../interfaces/group.interface';
import type { ScheduleCoordination } from '../../scheduler/schedule-coordination.interface';

const STREAM_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

type Connected = NatsClients & { topology: NatsTopology; deadLetters: NatsDeadLetters; replies: NatsReplies; delays: NatsDelays };

interface MaxDeliveriesAdvisory {
  stream: string;
  stream_seq: number;
  deliveries: number;
}

/**
 * NATS JetStream transport: one work-queue stream and one shared durable pull consumer per
 * (priority, domain), a dead-letter stream, and a stream capturing max-deliveries advisories.
 * Settles are double acks fenced on the client (see NatsLeaseRegistry).
 */
export class NatsTransport extends KanbanTransport {
  readonly broker = 'nats';
  private readonly logger = new Logger(NatsTransport.name);
  private readonly names: NatsNames;
  override readonly controlChannel: NatsControlChannel;
  private readonly leases = new NatsLeaseRegistry((lease) => this.onLeaseLapsed(lease));
  private readonly publishTimeoutMs: number;
  private readonly delayStreamMinMs: number;
  private readonly queues = new NatsDeclaredQueues(() => this.connected().topology);
  private readonly puller: NatsPuller;
  private readonly publisher: NatsPublisher;
  private readonly depthReader: NatsDepth;
  private readonly verifier: NatsDeliveryVerifier;
  private readonly groupLimits: NatsGroupLimits;
  private readonly groupRate: NatsGroupRate;
  private readonly admission: NatsGroupAdmission;
  private readonly groupMover: NatsGroupMover;
  private readonly groupListing: NatsGroupListing;
  private clients?: NatsClients;
  private deadLetters?: NatsDeadLetters;
  /** What connected() hands out, built once when the connection opens. */
  private ready?: Connected;
  private disconnectGrace?: NodeJS.Timeout;
  /** Between a lost connection and the reconnect: with a seed list, status stays `up` for NATS_CLUSTER_RECONNECT_GRACE_MS meanwhile. */
  private reconnecting = false;

  /** @throws KanbanConfigError for a stream prefix JetStream cannot use in names and subjects, or a negative delayStreamMinMs. */
  constructor(
    private readonly options: NatsConnectionOptions,
    private readonly settings: TransportSettings,
  ) {
    super();
    const prefix = options.streamPrefix ?? NATS_DEFAULT_STREAM_PREFIX;
    if (!STREAM_PREFIX_PATTERN.test(prefix)) {
      throw new KanbanConfigError('nats.streamPrefix', `must match ${STREAM_PREFIX_PATTERN.source}, got ${JSON.stringify(prefix)}`);
    }
    this.names = new NatsNames(prefix);
    this.controlChannel = new NatsControlChannel(this.names, () => this.liveConnection(), this.logger);
    this.publishTimeoutMs = options.publishTimeoutMs ?? NATS_DEFAULT_PUBLISH_TIMEOUT_MS;
    this.delayStreamMinMs = options.delayStreamMinMs ?? NATS_DEFAULT_DELAY_STREAM_MIN_MS;
    if (!Number.isFinite(this.delayStreamMinMs) || this.delayStreamMinMs < 0) {
      throw new KanbanConfigError('nats.delayStreamMinMs', `must be a number of milliseconds >= 0, got ${JSON.stringify(options.delayStreamMinMs)}`);
    }
    const releaseIdleAfterMs = options.releaseIdleAfterMs ?? NATS_RELEASE_IDLE_AFTER_MS;
    if (!Number.isFinite(releaseIdleAfterMs) || releaseIdleAfterMs <= 0) {
      throw new KanbanConfigError('nats.releaseIdleAfterMs', `must be a number of milliseconds > 0, got ${JSON.stringify(options.releaseIdleAfterMs)}`);
    }
    this.verifier = new NatsDeliveryVerifier((options.replicas ?? NATS_DEFAULT_REPLICAS) > 1, this.names, () => this.connected(), this.logger);
    this.groupLimits = new NatsGroupLimits(() => this.connected(), this.names, settings.groups);
    this.groupRate = new NatsGroupRate(() => this.connected(), this.names);
    this.admission = new NatsGroupAdmission({
      names: this.names,
      settings,
      limits: this.groupLimits,
      rate: this.groupRate,
      queues: this.queues,
      clients: () => this.connected(),
      backlogged: (priority, domain, group) => void this.groupMover.kick(priority, domain, group),
    });
    this.groupMover = new NatsGroupMover({
      names: this.names,
      admission: this.admission,
      limits: this.groupLimits,
      window: settings.groups.window,
      leadership: new NatsLeaseLeadership(() => this.connectedWhileClosing(), this.names.prefix, 'groups', options.replicas ?? NATS_DEFAULT_REPLICAS, NATS_GROUP_MOVER_LEASE_MS),
      clients: () => this.connected(),
      logger: this.logger,
    });
    this.groupListing = new NatsGroupListing(() => this.connected(), this.names, this.groupLimits);
    this.publisher = new NatsPublisher({
      names: this.names,
      queues: this.queues,
      logger: this.logger,
      publishTimeoutMs: this.publishTimeoutMs,
      connected: () => this.connected(),
      suspect: (why) => this.verifier.suspect(why),
      enqueue: (entry) => this.admission.enqueue(entry),
    });
    this.depthReader = new NatsDepth(() => this.connected().jsm, this.names, this.queues, this.verifier, this.logger);
    this.puller = new NatsPuller({
      names: this.names,
      settings,
      leases: this.leases,
      queues: this.queues,
      logger: this.logger,
      publishTimeoutMs: this.publishTimeoutMs,
      releaseIdleAfterMs,
      connected: () => this.connected().nc,
      rawConnection: () => this.clients?.nc,
      isClosing: () => this.isClosing,
      moveExhausted: (message, priority, domain, attempts) => this.moveExhausted(message, priority, domain, attempts),
      verifier: this.verifier,
    });
  }

  connect(): Promise<void> {
    return this.connectOnce(() => this.open());
  }

  private async open(): Promise<void> {
    this.status.next({ state: 'connecting', active: 'none' });
    const clients = await openNatsConnection(this.options, this.settings.maxPayloadBytes + NATS_ENVELOPE_OVERHEAD_BYTES, this.logger);
    try {
      const alignment = new NatsConsumerAlignment(clients.nc, clients.jsm, this.logger);
      const topology = new NatsTopology(clients.jsm, this.names, this.settings, this.options.replicas ?? NATS_DEFAULT_REPLICAS, alignment, this.logger);
      await topology.ensureShared();
      this.clients = clients;
      this.deadLetters = new NatsDeadLetters(clients.nc, clients.js, clients.jsm, this.names, this.publishTimeoutMs);
      const replies = new NatsReplies(clients.nc, this.publishTimeoutMs);
      const delays = new NatsDelays(clients.js, replies, this.names, topology, (entry) => this.admission.enqueue(entry), this.logger);
      this.ready = { ...clients, topology, deadLetters: this.deadLetters, replies, delays };
      delays.start();
      // Groups' backlogs left by instances gone meanwhile are moved by this one if it leads.
      if (await this.hasBacklog(clients)) this.groupMover.start();
    } catch (error) {
      await clients.nc.close().catch(() => undefined);
      throw error;
    }
    this.controlChannel.attach(clients.nc);
    this.verifier.watch(clients.nc);
    void this.watchStatus(clients);
    this.status.next({ state: 'up', active: 'nats', detail: `JetStream on ${redactServers(this.options.servers)}` });
  }

  private async hasBacklog({ jsm }: NatsClients): Promise<boolean> {
    for await (const _stream of jsm.streams.names(this.names.allBacklogSubjects)) return true;
    return false;
  }

  /** Mirrors the connection into status$; after a reconnect, rechecks JetStream and forgets declared queues (the server may have lost them). */
  private async watchStatus({ nc, jsm, stale }: NatsClients): Promise<void> {
    for await (const event of nc.status()) {
      if (this.isClosing) return;
      if (event.type === 'staleConnection') {
        this.logger.warn(`NATS server stopped answering pings; closing its connection`);
        stale.leave(nc);
      } else if (event.type === 'disconnect') {
        this.logger.warn(`NATS connection lost; reconnecting`);
        this.reconnecting = true;
        this.ready?.replies.connectionLost();
        const down = (): void => this.status.next({ state: 'down', active: 'none', detail: 'disconnected from NATS, reconnecting' });
        // With a seed list (a cluster), nats.js moves to another server at once: down only if that has not happened in time.
        if (this.options.servers.length > 1) this.disconnectGrace = setTimeout(down, NATS_CLUSTER_RECONNECT_GRACE_MS).unref();
        else down();
      } else if (event.type === 'reconnect') {
        clearTimeout(this.disconnectGrace);
        this.reconnecting = false;
        // nats.js drops what was written while no server was connected: those requests get no answer.
        this.ready?.replies.connectionLost();
        this.queues.clear();
        this.groupLimits.clear();
        this.groupRate.clear();
        this.verifier.suspect('reconnected to NATS');
        this.puller.reset();
        const jetStreamUp = await this.jetStreamAnswers(nc, jsm);
        this.logger.log(`NATS connection restored; JetStream ${jetStreamUp ? 'available' : 'not available'}`);
        this.status.next(jetStreamUp ? { state: 'up', active: 'nats' } : { state: 'degraded', active: 'none', detail: 'connected to NATS but JetStream does not answer' });
      }
    }
  }

  /** A restarted server recovers its streams before JetStream answers: asks a few times before calling it degraded. */
  private async jetStreamAnswers(nc: NatsConnection, jsm: NatsClients['jsm']): Promise<boolean> {
    for (let attempt = 1; attempt <= NATS_JETSTREAM_RECOVERY_CHECKS; attempt++) {
      if (this.isClosing || nc.isClosed()) return false;
      const answered = await jsm.getAccountInfo().then(
        () => true,
        () => false,
      );
      if (answered) return true;
      await new Promise((resolve) => setTimeout(resolve, NATS_RECONNECT_TIME_WAIT_MS).unref());
    }
    return false;
  }

  close(): Promise<void> {
    return this.closeOnce(() => this.shutdown());
  }

  /**
   * Releases the leases still held (this instance can no longer settle them), wakes waiting pulls,
   * drains the connection. While disconnected it closes at once: a drain would wait for a server.
   */
  private async shutdown(): Promise<void> {
    clearTimeout(this.disconnectGrace);
    // Items a feed received and never handed out are held by this instance too.
    const fed = this.puller.close();
    const held = [...this.leases.closeAll().map((lease) => lease.reply), ...fed.map((entry) => entry.message.reply ?? '').filter((reply) => reply !== '')];
    const moverStopped = this.ready?.delays.close();
    await this.groupMover.close();
    const nc = this.clients?.nc;
    const reachable = nc !== undefined && !nc.isClosed() && this.status.value.state !== 'down';
    if (nc && reachable) {
      const released = await Promise.allSettled(held.map((reply) => nc.request(reply, nak(0), { timeout: this.publishTimeoutMs })));
      const failed = released.filter((result) => result.status === 'rejected').length;
      if (failed > 0) this.logger.warn(`${failed} of ${held.length} held items could not be released at close; JetStream redelivers them after their ack wait`);
      try {
        await nc.drain();
      } catch (error) {
        this.logger.warn(`NATS drain failed (${(error as Error).message}); closing`);
        await nc.close().catch(() => undefined);
      }
    } else if (nc) {
      await nc.close().catch(() => undefined);
    }
    this.ready?.replies.close();
    this.controlChannel.detach();
    await moverStopped;
  }

  /** Schedules in a last-value stream, leadership as a lease record JetStream expires (see nats-schedule-*.ts). */
  override scheduleCoordination(leaseMs: number): ScheduleCoordination {
    const replicas = this.options.replicas ?? NATS_DEFAULT_REPLICAS;
    return {
      store: new NatsScheduleStore(() => this.connected(), this.names.prefix, replicas),
      leadership: new NatsLeaseLeadership(() => this.connected(), this.names.prefix, 'schedule', replicas, leaseMs),
    };
  }

  /** The fleet as a last-value stream of member records JetStream expires, the coordinator lease as the schedules' (see nats-fleet-membership.ts). */
  override fleetCoordination(settings: FleetSettings): FleetCoordination {
    const replicas = this.options.replicas ?? NATS_DEFAULT_REPLICAS;
    return {
      membership: new NatsFleetMembership(() => this.connected(), this.names.prefix, replicas, settings.memberTtlMs),
      leadership: new NatsLeaseLeadership(() => this.connected(), this.names.prefix, 'coordinator', replicas, settings.leaseMs),
    };
  }

  /** The connection while it is usable: what relayed settles travel on. */
  private liveConnection(): NatsConnection | undefined {
    if (this.isClosing || !this.ready || this.status.value.state === 'down') return undefined;
    return this.ready.nc;
  }

  /** The clients until the connection is drained: the group mover hands its lease over during close. */
  private connectedWhileClosing(): Connected {
    if (!this.ready || this.ready.nc.isClosed()) throw new BrokerUnavailableError('nats', 'not connected');
    return this.ready;
  }

  private connected(): Connected {
    this.assertNotClosed();
    if (!this.ready) throw new BrokerUnavailableError('nats', 'not connected; call connect() first');
    // Fail fast while reconnecting instead of letting nats.js buffer the call until its timeout: a failover transport switches sooner.
    if (this.status.value.state === 'down') throw new BrokerUnavailableError('nats', this.status.value.detail ?? 'disconnected from NATS');
    return this.ready;
  }

  async ensureQueue(priority: Priority, domain: string): Promise<void> {
    await this.queues.declare(priority, domain);
  }

  publish(item: WorkItem): Promise<PublishReceipt> {
    return this.publisher.publish(item);
  }

  /** Subscriptions this process holds open for work queues: queues idle for `releaseIdleAfterMs` hold none. */
  openQueueSubscriptions(): number {
    return this.puller.openSubscriptions();
  }

  /** @throws QueueUnavailableError while the queue's stream or consumer has no leader (see queueOrBrokerFailure). */
  async pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    try {
      return await this.puller.pull(queue, max, options);
    } catch (error) {
      throw await this.queueOrBrokerFailure(error, queue.priority ? `queue ${this.names.workStream(queue.priority, queue.domain)}` : `a queue of ${queue.domain}`);
    }
  }

  /**
   * A JetStream call that found no stream or consumer leader while the server itself answers is
   * the queue's trouble (a leader is being elected after a cluster node died), not an outage; so is
   * one cut by the move to another server of the seed list, which status reports as down if it
   * does not happen within its grace.
   */
  private async queueOrBrokerFailure(error: unknown, queue: string): Promise<unknown> {
    const nc = this.ready?.nc;
    if (!(error instanceof BrokerUnavailableError) || !mayAnswerSoon(error) || !nc || this.status.value.state !== 'up') return error;
    const queueTrouble = new QueueUnavailableError('nats', queue, error.message, { cause: error });
    if (this.reconnecting) return queueTrouble;
    const answered = await serverAnswers(nc, NATS_SERVER_PING_TIMEOUT_MS);
    // A ping cut short by the connection dropping meanwhile is that move too.
    return answered || this.reconnecting ? queueTrouble : error;
  }

  /** A delivery past maxAttempts means every lease lapsed: dead-letter it as stalled instead of handing it out. */
  private async moveExhausted(message: Msg, priority: Priority, domain: string, attempts: number): Promise<void> {
    const info = parseAckSubject(message.reply as string)!;
    const record = this.deadLetterRecord(message.data, priority, domain, 'stalled', `lease lapsed on all ${attempts} attempts`, attempts);
    await this.connected().deadLetters.add(record, `${info.stream}:${info.streamSeq}`);
    await this.settle(message.reply as string, TERM, `terminating exhausted item ${record.id}`);
    this.slotFreed(priority, domain, message.data);
    this.logger.warn(`dead-lettered item ${record.id} (${priority}/${domain}) as stalled after ${attempts} lapsed attempts`);
  }

  /**
   * A lease ran out here: release the item for its next attempt at once, or, on its last attempt,
   * hold it (still unacked on the server) for the sweep to dead-letter as stalled.
   */
  private onLeaseLapsed(lease: TrackedLease): LapseAction {
    if (lease.attempts >= this.settings.maxAttempts) return 'hold';
    this.settle(lease.reply, nak(0), `releasing item ${lease.ref.id} after its lease lapsed`).then(
      () => this.puller.wake(),
      (error: unknown) => this.logger.warn(`${(error as Error).message}; JetStream redelivers it after its ack wait`),
    );
    return 'release';
  }

  async ack(ref: LeaseRef): Promise<void> {
    const lease = this.leases.assertCurrent(ref, this.names.workStream(ref.priority, ref.domain), this.names.workConsumer);
    // Closing the lease drops its data: the group is read first.
    const { data } = lease;
    await this.settle(lease.reply, ACK, `acking item ${ref.id}`);
    this.leases.close(ref);
    this.slotFreed(ref.priority, ref.domain, data);
  }

  /** A grouped item left its slot (acked, dead-lettered, moved to the delay stream): its group's backlog moves up now. */
  private slotFreed(priority: Priority, domain: string, data: Uint8Array): void {
    const group = groupOf(data);
    if (group !== undefined) void this.groupMover.kick(priority, domain, group);
  }

  /**
   * A short delay is a delayed NAK. From delayStreamMinMs on, the item waits in the delay stream
   * (stored there first, then the delivery is acked: a crash between leaves it in both places,
   * never in neither), so it does not count against the queue's max_ack_pending meanwhile. Only
   * that copy takes `headers`: a NAK redelivers the stored message as it is.
   */
  async retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): Promise<void> {
    const lease = this.leases.assertCurrent(ref, this.names.workStream(ref.priority, ref.domain), this.names.workConsumer);
    if (delayMs < this.delayStreamMinMs) {
      await this.settle(lease.reply, nak(delayMs), `returning item ${ref.id} for retry`);
    } else {
      const { info, attempts, data } = lease;
      await this.connected().delays.hold({
        priority: ref.priority,
        domain: ref.domain,
        data: headers ? withHeaders(data, headers) : data,
        attempts,
        dueAt: Date.now() + delayMs,
        msgId: `${info.stream}:${info.streamSeq}:${attempts}`,
      });
      await this.settle(lease.reply, ACK, `acking item ${ref.id}, held in ${this.names.delayStream} for retry`);
      this.slotFreed(ref.priority, ref.domain, data);
    }
    this.leases.close(ref);
  }

  /**
   * JetStream restarts the delivery's ack wait, which is fixed per consumer: the lease runs for
   * `leaseMs` but at most the consumer's lease length (less the safety margin) from now, and that
   * is what it returns.
   */
  async extendLease(ref: LeaseRef, leaseMs: number): Promise<number> {
    const lease = this.leases.assertCurrent(ref, this.names.workStream(ref.priority, ref.domain), this.names.workConsumer);
    await this.settle(lease.reply, IN_PROGRESS, `extending the lease of item ${ref.id}`);
    const grantedMs = Math.max(1, Math.min(leaseMs, this.settings.leaseMs - NATS_LEASE_SAFETY_MARGIN_MS));
    this.leases.extend(ref, grantedMs);
    return grantedMs;
  }

  /** Attempts of the delivery this instance received: JetStream's delivery count plus those a delayed retry carried. @throws LeaseExpiredError */
  async deliveryAttempts(ref: LeaseRef): Promise<number> {
    return this.leases.assertCurrent(ref, this.names.workStream(ref.priority, ref.domain), this.names.workConsumer).attempts;
  }

  /** Stores the dead letter and waits for its PubAck, then terminates the delivery: a crash between leaves the item in both places, never in neither. */
  async deadLetter(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    const { reply, info, attempts, data } = this.leases.assertCurrent(ref, this.names.workStream(ref.priority, ref.domain), this.names.workConsumer);
    const record = await this.moveDelivery(ref, reply, info, attempts, data, reason, error);
    this.leases.close(ref);
    return record;
  }

  private async moveDelivery(ref: LeaseRef, reply: string, info: NatsDeliveryInfo, attempts: number, data: Uint8Array, reason: DeadLetterReason, error: string | undefined): Promise<DeadLetter> {
    const record = { ...this.deadLetterRecord(data, ref.priority, ref.domain, reason, error, attempts), id: ref.id };
    await this.connected().deadLetters.add(record, `${info.stream}:${info.streamSeq}`);
    await this.settle(reply, TERM, `terminating dead-lettered item ${ref.id}`);
    this.slotFreed(ref.priority, ref.domain, data);
    return record;
  }

  private deadLetterRecord(data: Uint8Array, priority: Priority, domain: string, reason: DeadLetterReason, error: string | undefined, attempts: number): DeadLetter {
    const item = this.tryDecode(data, attempts);
    return {
      id: item?.id ?? newItemId(),
      priority,
      domain,
      ...(item ? { item } : { raw: Buffer.from(data).toString('base64') }),
      reason,
      ...(error !== undefined ? { error } : {}),
      attempts,
      deadLetteredAt: Date.now(),
      broker: this.broker,
    };
  }

  private tryDecode(data: Uint8Array, attempts = 0): WorkItem | undefined {
    try {
      return decodeItem(data, attempts);
    } catch {
      return undefined;
    }
  }

  private async storedMessage(stream: string, seq: number): Promise<StoredMsg | null> {
    try {
      return await this.connected().jsm.streams.getMessage(stream, { seq });
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.noMessageFound) return null;
      throw brokerError(error, `reading message ${seq} of ${stream}`);
    }
  }

  /** Sends a settle and waits for the server to confirm it (double ack, through NatsReplies). */
  /**
   * Sends a settle verb, again while nothing answers it (the consumer electing a leader: a step-down
   * to align it with its stream, a node lost) until publishTimeoutMs has passed: a verb sent twice
   * is applied once, and failing the settle would leave the item to come back after its lease.
   */
  private async settle(reply: string, verb: string, action: string): Promise<void> {
    const deadline = performance.now() + this.publishTimeoutMs;
    for (;;) {
      try {
        await this.connected().replies.request(reply, verb);
        return;
      } catch (error) {
        if (!findCause(error, natsErrors.NoRespondersError) || performance.now() + NATS_PUBLISH_RETRY_INTERVAL_MS >= deadline || this.isClosing) throw brokerError(error, action);
        await sleep(NATS_PUBLISH_RETRY_INTERVAL_MS);
      }
    }
  }

  async sweepStalled(stalledAfterMs: number): Promise<DeadLetter[]> {
    const moved: DeadLetter[] = [];
    const lapsedOnLastAttempt = this.leases.exhausted().map((lease) => ({ lease, error: `lease lapsed on its last attempt (${lease.attempts})` }));
    const heldTooLong = this.leases.heldLongerThan(stalledAfterMs).map((lease) => ({ lease, error: `unsettled for more than ${stalledAfterMs} ms` }));
    for (const { lease, error } of [...lapsedOnLastAttempt, ...heldTooLong]) {
      const data = lease.data;
      this.leases.close(lease.ref);
      moved.push(await this.moveDelivery(lease.ref, lease.reply, lease.info, lease.attempts, data, 'stalled', error));
      this.logger.warn(`dead-lettered item ${lease.ref.id} (${lease.ref.priority}/${lease.ref.domain}) as stalled: ${error}`);
    }
    moved.push(...(await this.moveAdvisedExhausted()));
    return moved;
  }

  /**
   * Items JetStream stopped delivering at max_deliver (their last lease lapsed while the library
   * was dead-lettering them) stay in the stream; the captured advisory names them.
   */
  private async moveAdvisedExhausted(): Promise<DeadLetter[]> {
    const { nc, jsm, deadLetters } = this.connected();
    const { messages: advisories } = await pullReady(nc, this.names.advisoryStream, this.names.advisoryConsumer, NATS_SWEEP_BATCH).catch((error: unknown) => {
      throw brokerError(error, 'reading max-deliveries advisories');
    });
    const moved: DeadLetter[] = [];
    for (const message of advisories) {
      const advisory = JSON.parse(Buffer.from(message.data).toString('utf8')) as MaxDeliveriesAdvisory;
      const queue = this.names.parseWorkStream(advisory.stream);
      const stored = queue ? await this.storedMessage(advisory.stream, advisory.stream_seq) : null;
      if (queue && stored) {
        const attempts = Math.min(advisory.deliveries, this.settings.maxAttempts);
        const record = this.deadLetterRecord(stored.data, queue.priority, queue.domain, 'stalled', `lease lapsed on all ${attempts} attempts`, attempts);
        await deadLetters.add(record, `${advisory.stream}:${advisory.stream_seq}`);
        await jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch((error: unknown) => {
          if (jsApiCode(error) !== JS_ERR.noMessageFound) throw brokerError(error, `removing exhausted item ${record.id}`);
        });
        this.slotFreed(queue.priority, queue.domain, stored.data);
        moved.push(record);
        this.logger.warn(`dead-lettered item ${record.id} (${queue.priority}/${queue.domain}) as stalled after max deliveries`);
      }
      await this.settle(message.reply as string, ACK, 'acking a max-deliveries advisory');
    }
    return moved;
  }

  /** @throws QueueUnavailableError while a queue's stream or consumer has no leader. */
  async depth(): Promise<QueueDepth[]> {
    try {
      return await this.depthReader.read();
    } catch (error) {
      throw await this.queueOrBrokerFailure(error, 'a queue read for depth');
    }
  }

  /** One JetStream API round trip: answers without reading any queue, so a missing consumer or many queues cannot hold failback back. */
  override async probe(): Promise<void> {
    try {
      await this.connected().jsm.getAccountInfo();
    } catch (error) {
      throw brokerError(error, 'asking JetStream for the account info');
    }
  }

  /** Kept in a last-value stream every instance reads (NatsGroupLimits); a raised window lets backlog items in at once. */
  override async setGroupLimits(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    await this.groupLimits.set(domain, group, limits);
    await Promise.all(PRIORITIES.map((priority) => this.groupMover.kick(priority, domain, group)));
  }

  override listGroups(domain: string, filter: GroupFilter): Promise<GroupPage> {
    return this.groupListing.list(domain, filter);
  }

  listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    return this.connected().deadLetters.list(filter);
  }

  getDeadLetter(id: string): Promise<DeadLetter> {
    return this.connected().deadLetters.get(id);
  }

  deleteDeadLetter(id: string): Promise<void> {
    return this.connected().deadLetters.delete(id);
  }
}
