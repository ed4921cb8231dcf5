import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { decodeItem, MalformedItemError } from '../../codec/item-codec';
import { newItemId } from '../../codec/item-id';
import type { PullOptions, QueueRef, TransportDelivery } from '../../interfaces/delivery.interface';
import type { Priority, WorkItem } from '../../interfaces/work-item.interface';
import { PRIORITIES, SUBJECT_PREFIX } from '../../kanban.constants';
import type { TransportSettings } from '../../transport/kanban-transport';
import { NATS_ATTEMPTS_HEADER, NATS_DELIVERY_RECHECK_MS, NATS_IDLE_CHECK_MS, NATS_LEASE_SAFETY_MARGIN_MS, NATS_PUBLISH_RETRY_INTERVAL_MS, NATS_PULL_RECHECK_MS } from './nats.constants';
import type { NatsDeclaredQueues } from './nats-declared-queues';
import type { NatsDeliveryVerifier } from './nats-delivery-verifier';
import { brokerError, mayAnswerSoon } from './nats-errors';
import { NatsFeed, type FedMessage } from './nats-feed';
import { parseAckSubject, type NatsDeliveryInfo, type NatsLeaseRegistry } from './nats-lease';
import type { NatsNames } from './nats-names';
import { publishedOrTimeout, pullReady } from './nats-pull';
import { IN_PROGRESS, nak } from './nats-settle-verbs';
import { NATS_ACK_PENDING_PULLS } from './nats-topology';

/** What the puller needs from its transport. */
export interface NatsPullerContext {
  names: NatsNames;
  settings: TransportSettings;
  leases: NatsLeaseRegistry;
  queues: NatsDeclaredQueues;
  logger: Logger;
  publishTimeoutMs: number;
  /** A queue's feed nobody used for this long is closed (NatsConnectionOptions.releaseIdleAfterMs). */
  releaseIdleAfterMs: number;
  /** The connection, checked: throws BrokerUnavailableError when closed or disconnected. */
  connected(): NatsConnection;
  /** The connection as it is, for releasing items during close. */
  rawConnection(): NatsConnection | undefined;
  isClosing(): boolean;
  /** Checks deliveries against their stream's leader after cluster trouble. */
  verifier: NatsDeliveryVerifier;
  /** Dead-letters a delivery that arrived past maxAttempts (every lease lapsed) as stalled. */
  moveExhausted(message: Msg, priority: Priority, domain: string, attempts: number): Promise<void>;
}

/** Attempts with this delivery: JetStream's delivery count plus the attempts a delayed retry carried over. */
function attemptsOf(message: Msg, info: NatsDeliveryInfo): number {
  const carried = Number(message.headers?.get(NATS_ATTEMPTS_HEADER) ?? 0);
  return info.deliveryCount + (Number.isSafeInteger(carried) && carried > 0 ? carried : 0);
}

/**
 * Pulling for the NATS transport: turns what JetStream delivers into leased deliveries. A waiting
 * pull of one priority is served by the queue's feed (one standing pull request per queue and
 * process); any other pull makes no-wait requests in strict priority order and sleeps on a core
 * subscription between rounds. Deliveries that arrive after their pull gave up are kept for the
 * next pull, never dropped.
 */
export class NatsPuller {
  /** Waiting pulls, woken when this instance releases an item (a release publishes nothing they could hear). */
  private readonly waiters = new Set<() => void>();
  /** One standing-pull feed per (priority, domain) queue that waiting pulls of one priority use. */
  private readonly feeds = new Map<string, NatsFeed>();
  private readonly idleTimer: NodeJS.Timeout;
  /** Deliveries whose stream leader could not be asked, by the timer that asks again. */
  private readonly rechecks = new Map<NodeJS.Timeout, FedMessage[]>();

  constructor(private readonly context: NatsPullerContext) {
    // Checked at least twice per idle time, so a feed is released at most half an idle time late.
    const checkEveryMs = Math.max(1, Math.min(NATS_IDLE_CHECK_MS, Math.ceil(context.releaseIdleAfterMs / 2)));
    this.idleTimer = setInterval(() => this.releaseIdleFeeds(), checkEveryMs);
    this.idleTimer.unref();
  }

  /** Subscriptions the queues' feeds hold on the connection. */
  openSubscriptions(): number {
    return [...this.feeds.values()].filter((feed) => feed.subscribed).length;
  }

  /** Wakes the waiting pulls: an item this instance released is ready again. */
  wake(): void {
    for (const wake of this.waiters) wake();
  }

  /** After a reconnect the server may have lost the feeds' open requests. */
  reset(): void {
    for (const feed of this.feeds.values()) feed.reset();
  }

  /** Ends the waiting pulls and the feeds; returns what the feeds held unhanded (the transport releases it). */
  close(): FedMessage[] {
    clearInterval(this.idleTimer);
    for (const timer of this.rechecks.keys()) clearTimeout(timer);
    const fed = [...[...this.rechecks.values()].flat(), ...[...this.feeds.values()].flatMap((feed) => feed.close())];
    this.rechecks.clear();
    this.feeds.clear();
    this.wake();
    return fed;
  }

  /** Hands out up to `max` deliveries under a lease (see KanbanTransport.pull). */
  async pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    const nc = this.context.connected();
    if (max < 1) return [];
    const priorities = queue.priority ? [queue.priority] : [...PRIORITIES];
    const streams = await Promise.all(priorities.map((priority) => this.declareSettled(priority, queue.domain)));
    const leaseMs = Math.max(1, Math.min(options.leaseMs, this.context.settings.leaseMs - NATS_LEASE_SAFETY_MARGIN_MS));
    if (queue.priority && options.waitMs > 0) return this.pullFed(queue.priority, queue.domain, streams[0], max, leaseMs, options);
    const deadline = Date.now() + options.waitMs;
    const names = this.context.names;
    // Grouped items are published on their slots' subjects.
    const wakeSubjects = queue.priority
      ? [names.workSubject(queue.priority, queue.domain), names.groupSlotsFilter(queue.priority, queue.domain)]
      : [`${SUBJECT_PREFIX}.*.${queue.domain}`, `${SUBJECT_PREFIX}.*.${queue.domain}.*.*`];
    for (;;) {
      if (this.context.isClosing()) return [];
      const deliveries = await this.pullRound(nc, priorities, streams, queue.domain, max, leaseMs);
      const remaining = deadline - Date.now();
      if (deliveries.length > 0 || remaining <= 0 || options.signal?.aborted) return deliveries;
      await this.waitForWork(nc, wakeSubjects, Math.min(remaining, NATS_PULL_RECHECK_MS), options.signal);
    }
  }

  /**
   * Declares the queue, asking again while JetStream answers as a cluster does while a stream or
   * consumer another instance has just created elects its leader (not found, temporarily
   * unavailable, no answer), for up to publishTimeoutMs like a publish: a fleet starting on a new
   * queue declares it from every instance at once.
   * @throws BrokerUnavailableError when it still fails then.
   */
  private async declareSettled(priority: Priority, domain: string): Promise<string> {
    const deadline = performance.now() + this.context.publishTimeoutMs;
    for (;;) {
      try {
        return await this.context.queues.declare(priority, domain);
      } catch (error) {
        if (!mayAnswerSoon(error) || performance.now() + NATS_PUBLISH_RETRY_INTERVAL_MS >= deadline || this.context.isClosing()) throw error;
        await sleep(NATS_PUBLISH_RETRY_INTERVAL_MS);
      }
    }
  }

  /** Until a publish on the queue, a release by this instance, the recheck interval, an abort or close. */
  private async waitForWork(nc: NatsConnection, subjects: string[], maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const wake = (): void => woken.abort();
    this.waiters.add(wake);
    try {
      await publishedOrTimeout(nc, subjects, maxWaitMs, signal ? AbortSignal.any([signal, woken.signal]) : woken.signal);
    } finally {
      this.waiters.delete(wake);
    }
  }

  /**
   * A waiting pull on one queue: served by the queue's feed (one standing pull request shared by
   * this instance's waiting pulls; JetStream pushes each item as it is stored).
   */
  private async pullFed(priority: Priority, domain: string, stream: string, max: number, leaseMs: number, options: PullOptions): Promise<TransportDelivery[]> {
    const feed = this.feedFor(priority, domain, stream);
    feed.pulls++;
    try {
      return await this.pullFromFeed(feed, priority, domain, stream, max, leaseMs, options);
    } finally {
      feed.pulls--;
      feed.lastUsedAt = performance.now();
    }
  }

  private async pullFromFeed(feed: NatsFeed, priority: Priority, domain: string, stream: string, max: number, leaseMs: number, options: PullOptions): Promise<TransportDelivery[]> {
    const deadline = Date.now() + options.waitMs;
    let redeclared = false;
    for (;;) {
      if (this.context.isClosing()) return [];
      let fed: FedMessage[];
      try {
        fed = await feed.take(max, deadline - Date.now(), options.signal);
      } catch (error) {
        // The consumer or stream is gone: declare it again once and wait on; a second refusal is an outage.
        if (redeclared) throw brokerError(error, `pulling from ${stream}`);
        redeclared = true;
        await this.redeclareQueue(priority, domain, error);
        continue;
      }
      const deliveries = await this.handOut(fed, priority, domain, stream, leaseMs);
      if (deliveries.length > 0 || fed.length === 0 || Date.now() >= deadline || options.signal?.aborted) return deliveries;
    }
  }

  /**
   * After a pull was refused: forgets the declared queue and declares it again, which recreates a
   * deleted consumer or stream (`nats consumer rm`, a server that lost its store).
   * @throws BrokerUnavailableError naming the first failure when JetStream does not answer.
   */
  private async redeclareQueue(priority: Priority, domain: string, cause: unknown): Promise<string> {
    this.context.queues.forget(priority, domain);
    this.context.verifier.suspect(`a pull from ${this.context.names.workStream(priority, domain)} was refused`);
    const stream = await this.context.queues.declare(priority, domain).catch((error: unknown) => {
      throw brokerError(cause, `pulling from ${this.context.names.workStream(priority, domain)} (declaring it again failed too: ${(error as Error).message})`);
    });
    this.context.logger.warn(`pull from ${stream} refused (${(cause as Error).message}); declared its stream and consumer again`);
    return stream;
  }

  private feedFor(priority: Priority, domain: string, stream: string): NatsFeed {
    const key = `${priority}:${domain}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = new NatsFeed(
        this.context.connected(),
        stream,
        this.context.names.workConsumer,
        this.context.settings.workerPullSize * NATS_ACK_PENDING_PULLS,
        this.context.settings.leaseMs - NATS_LEASE_SAFETY_MARGIN_MS,
        (messages) => this.releaseFed(messages, `${messages.length} item(s) of ${stream} that waited out their lease before a pull took them`),
        () => {
          this.context.queues.forget(priority, domain);
          this.context.verifier.suspect(`a pull request on ${stream} was lost or refused`);
        },
      );
      this.feeds.set(key, feed);
    }
    return feed;
  }

  /**
   * Closes the feeds of queues nobody pulled from for the idle time (domains are many, and each
   * feed holds a subscription); the next pull opens one again. A feed holding items or an open
   * pull request is left for a later check: its items go to the next pull or back after their hold.
   */
  private releaseIdleFeeds(): void {
    const now = performance.now();
    for (const [key, feed] of this.feeds) {
      if (now - feed.lastUsedAt < this.context.releaseIdleAfterMs || !feed.releasable) continue;
      this.feeds.delete(key);
      this.releaseFed(feed.close(), `items of the idle feed ${key}`);
      this.context.logger.debug(`Released the idle feed of ${key}`);
    }
  }

  /** Gives items this instance received but will not hand out back to the queue (JetStream redelivers them after their ack wait if this fails). */
  private releaseFed(messages: FedMessage[], why: string): void {
    const nc = this.context.rawConnection();
    if (!nc || nc.isClosed() || messages.length === 0) return;
    void Promise.allSettled(messages.map(({ message }) => nc.request(message.reply as string, nak(0), { timeout: this.context.publishTimeoutMs }))).then((results) => {
      const failed = results.filter((result) => result.status === 'rejected').length;
      if (failed > 0) this.context.logger.warn(`releasing ${why}: ${failed} of ${messages.length} failed; JetStream redelivers them after their ack wait`);
      this.wake();
    });
  }

  /**
   * Turns received messages into deliveries under a lease. JetStream's ack wait started when the
   * message arrived, so the lease is shortened by the time it waited here.
   */
  private async handOut(fed: FedMessage[], priority: Priority, domain: string, stream: string, leaseMs: number): Promise<TransportDelivery[]> {
    const deliveries: TransportDelivery[] = [];
    const { verified, unanswered } = await this.context.verifier.verify(stream, this.context.names.workConsumer, fed);
    if (unanswered.length > 0) this.recheckLater(priority, domain, stream, unanswered);
    for (const entry of verified) {
      const lease = Math.floor(Math.min(leaseMs, this.context.settings.leaseMs - NATS_LEASE_SAFETY_MARGIN_MS - (performance.now() - entry.arrivedAt)));
      if (lease < 1 || this.context.isClosing()) {
        this.releaseFed([entry], `an item of ${stream} that waited out its lease before a pull took it`);
        continue;
      }
      // One message failing (its dead-lettering, say) must not strand the rest of the batch, which is already delivered.
      const delivery = await this.toDelivery(entry.message, priority, domain, lease).catch((error: unknown) => {
        this.context.logger.warn(`could not hand out a delivery from ${stream}: ${(error as Error).message}; JetStream redelivers it after its ack wait`);
        return undefined;
      });
      if (delivery) deliveries.push(delivery);
    }
    return deliveries;
  }

  /** Held deliveries of `stream` are asked about again after NATS_DELIVERY_RECHECK_MS (see NatsDeliveryVerifier.verify). */
  private recheckLater(priority: Priority, domain: string, stream: string, entries: FedMessage[]): void {
    const timer = setTimeout(() => {
      this.rechecks.delete(timer);
      void this.renewAndPark(priority, domain, stream, entries);
    }, NATS_DELIVERY_RECHECK_MS);
    this.rechecks.set(timer, entries);
  }

  /**
   * Restarts the held deliveries' ack wait (+WPI), so JetStream neither redelivers them nor counts
   * an attempt meanwhile, and gives them to the queue's feed: the next pull checks them again.
   */
  private async renewAndPark(priority: Priority, domain: string, stream: string, entries: FedMessage[]): Promise<void> {
    const nc = this.context.rawConnection();
    if (!nc || nc.isClosed() || this.context.isClosing()) return this.releaseFed(entries, `held deliveries of ${stream}, at close`);
    const renewedAt = performance.now();
    const renewals = await Promise.allSettled(entries.map(({ message }) => nc.request(message.reply as string, IN_PROGRESS, { timeout: this.context.publishTimeoutMs })));
    const renewed = entries.filter((_, index) => renewals[index].status === 'fulfilled').map((entry) => ({ ...entry, arrivedAt: renewedAt }));
    if (renewed.length < entries.length) {
      this.context.logger.warn(`renewing ${entries.length - renewed.length} held deliveries of ${stream} failed; JetStream redelivers them after their ack wait`);
    }
    if (this.context.isClosing()) return this.releaseFed(renewed, `held deliveries of ${stream}, at close`);
    const feed = this.feedFor(priority, domain, stream);
    for (const entry of renewed) feed.park(entry);
    this.wake();
  }

  /**
   * One pass in strict priority order: high fills the batch first, then normal, then low. Items a
   * queue's feed already holds go first; the no-wait pull takes what is ready on the server; then
   * the feed is read again, because what the server had pushed to the feed's standing request
   * arrives before the answer to the no-wait pull.
   */
  private async pullRound(nc: NatsConnection, priorities: Priority[], streams: string[], domain: string, max: number, leaseMs: number): Promise<TransportDelivery[]> {
    const deliveries: TransportDelivery[] = [];
    for (let i = 0; i < priorities.length && deliveries.length < max; i++) {
      const feed = this.feeds.get(`${priorities[i]}:${domain}`);
      if (feed) deliveries.push(...(await this.handOut(feed.takeBuffered(max - deliveries.length), priorities[i], domain, streams[i], leaseMs)));
      if (deliveries.length >= max) break;
      const messages = await this.pullNow(nc, priorities[i], domain, streams[i], max - deliveries.length);
      const arrivedAt = performance.now();
      deliveries.push(
        ...(await this.handOut(
          messages.map((message) => ({ message, arrivedAt })),
          priorities[i],
          domain,
          streams[i],
          leaseMs,
        )),
      );
      if (feed && deliveries.length < max) deliveries.push(...(await this.handOut(feed.takeBuffered(max - deliveries.length), priorities[i], domain, streams[i], leaseMs)));
    }
    return deliveries;
  }

  /**
   * A no-wait pull on one queue. Refused: the stream or consumer may be gone (deleted, a server
   * that lost its store), so it is declared again and pulled once more. Unanswered: the same may
   * hold (a pull to a deleted consumer gets no answer), so the next pull declares it again.
   */
  private async pullNow(nc: NatsConnection, priority: Priority, domain: string, stream: string, max: number): Promise<Msg[]> {
    const onLate = (message: Msg): void => this.parkLate(priority, domain, stream, message);
    const answer = await pullReady(nc, stream, this.context.names.workConsumer, max, onLate).catch(async (error: unknown) => {
      const declared = await this.redeclareQueue(priority, domain, error);
      return pullReady(nc, declared, this.context.names.workConsumer, max, onLate).catch((retryError: unknown) => {
        throw brokerError(retryError, `pulling from ${declared}`);
      });
    });
    if (!answer.answered) {
      this.context.queues.forget(priority, domain);
      this.context.verifier.suspect(`a pull from ${stream} went unanswered`);
    }
    return answer.messages;
  }

  /** A message that answered a pull after it gave up waiting is delivered all the same: it waits in the queue's feed for the next pull. */
  private parkLate(priority: Priority, domain: string, stream: string, message: Msg): void {
    if (this.context.isClosing()) return this.releaseFed([{ message, arrivedAt: performance.now() }], `an item of ${stream} that arrived after its pull gave up, at close`);
    this.feedFor(priority, domain, stream).park({ message, arrivedAt: performance.now() });
    this.wake();
  }

  private async toDelivery(message: Msg, priority: Priority, domain: string, leaseMs: number): Promise<TransportDelivery | undefined> {
    const info = parseAckSubject(message.reply ?? '');
    if (!info) {
      this.context.logger.warn(`ignored a message without a JetStream ack subject on ${message.subject}`);
      return undefined;
    }
    const attempts = attemptsOf(message, info);
    if (attempts > this.context.settings.maxAttempts) {
      await this.context.moveExhausted(message, priority, domain, attempts - 1);
      return undefined;
    }
    let item: WorkItem;
    try {
      item = decodeItem(message.data, attempts);
      if (item.domain !== domain || item.priority !== priority) {
        throw new MalformedItemError(`item for ${item.priority}/${item.domain} arrived on ${message.subject}`);
      }
    } catch (error) {
      if (!(error instanceof MalformedItemError)) throw error;
      const id = newItemId();
      const { lease } = this.context.leases.track({ id, domain, priority }, message.reply as string, info, attempts, leaseMs, message.data);
      return { id, domain, priority, lease, malformed: true, raw: Buffer.from(message.data).toString('base64'), error: error.message, attempts };
    }
    const { lease, expiresAt } = this.context.leases.track({ id: item.id, domain, priority }, message.reply as string, info, attempts, leaseMs, message.data);
    return { id: item.id, domain, priority, lease, item, leaseExpiresAt: expiresAt };
  }
}
