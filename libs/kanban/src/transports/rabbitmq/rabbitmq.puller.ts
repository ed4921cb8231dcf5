import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import { isMalformed, type Priority, type PullOptions, type QueueRef, type TransportDelivery } from '../../interfaces';
import type { GroupLimits } from '../../interfaces/group.interface';
import { PRIORITIES } from '../../kanban.constants';
import type { TransportSettings } from '../../transport';
import type { Holding, RabbitMqHoldings } from './rabbitmq-holdings';
import { attemptsOf, returnsOf, toTransportDelivery } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import { RabbitMqGroupHandOut } from './rabbitmq-group-hand-out';
import { RabbitMqQueueConsumer, type ConsumedMessage } from './rabbitmq-queue-consumer';
import type { RabbitMqTopology } from './rabbitmq-topology';
import {
  RABBITMQ_CONSUMER_CREDIT_PULLS,
  RABBITMQ_CONSUMER_IDLE_CHECK_MS,
  RABBITMQ_GROUP_BUFFER_MAX_MS,
  RABBITMQ_GROUP_PREFETCH,
  RABBITMQ_MAX_PREFETCH,
  RABBITMQ_PULL_FILL_WINDOW_MS,
} from './rabbitmq.constants';

/**
 * A waiting pull looks again at least this often: the broker pushes nothing to consumers whose
 * prefetch is full, and a pull waiting through a reconnect must subscribe again.
 */
const PULL_RECHECK_MS = 250;

/** What the puller asks of the transport it works for. */
export interface RabbitMqPullerHost {
  isClosing(): boolean;
  /** Declares the work queue (validating priority and domain). */
  ensureQueue(priority: Priority, domain: string): Promise<void>;
  /** Whether the work queue is declared on the current connection. */
  isDeclared(queue: string): boolean;
  /** A queue did not answer basic.consume in time (a quorum queue without a leader?). */
  onUnanswered(queue: string, message: string): void;
  onAnswered(queue: string): void;
  /** Republishes a prefetched delivery nobody pulled as a copy carrying `attemptsBefore`, then acks the original. */
  handBackCopy(delivery: ConsumedMessage, attemptsBefore: number): Promise<void>;
  /** The limits in force for a group of the domain (run-time override, else the options'). */
  groupLimits(domain: string, group: string): GroupLimits;
  /** Whether every run-time group limit set before is known here; when not, starts reading them. */
  groupLimitsKnown(): boolean;
}

/** The two queues of one (priority, domain): the work queue (items without a group) and the grouped queue. */
interface QueuePair {
  work: RabbitMqQueueConsumer;
  grouped: RabbitMqQueueConsumer;
  handOut: RabbitMqGroupHandOut;
}

/**
 * Pull orchestration for the RabbitMQ transport: one RabbitMqQueueConsumer per (priority, domain)
 * queue, subscribed on first pull; a pull takes from their buffers in priority order, leases what
 * it takes (RabbitMqHoldings), and waits a bounded time for more. Queues left idle give back what
 * their consumer prefetched, so other processes can take it and the broker's consumer timeout
 * never fires.
 */
export class RabbitMqPuller {
  private readonly consumers = new Map<string, RabbitMqQueueConsumer>();
  /** Fair hand-out state per grouped queue; kept while its consumer is released, so round robin and rates carry on. */
  private readonly handOuts = new Map<string, RabbitMqGroupHandOut>();
  private readonly idleTimer: NodeJS.Timeout;
  private model?: ChannelModel;
  /** Lease tokens are this instance's random prefix and a sequence number: unique, never reused, and cheap per delivery. */
  private readonly leasePrefix = `${randomUUID()}.`;
  private leaseSeq = 0;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly settings: TransportSettings,
    private readonly topology: RabbitMqTopology,
    private readonly holdings: RabbitMqHoldings,
    private readonly host: RabbitMqPullerHost,
    private readonly logger: Logger,
    /** A queue not pulled from for this long is released (RabbitMqConnectionOptions.releaseIdleAfterMs). */
    private readonly releaseIdleAfterMs: number,
  ) {
    // Checked at least twice per idle time, so a queue is released at most half an idle time late.
    const checkEveryMs = Math.max(1, Math.min(RABBITMQ_CONSUMER_IDLE_CHECK_MS, Math.ceil(releaseIdleAfterMs / 2)));
    this.idleTimer = setInterval(() => {
      this.releaseIdleConsumers().catch((error: unknown) => this.logger.warn(`Releasing idle consumers failed: ${(error as Error).message}`));
    }, checkEveryMs);
    this.idleTimer.unref();
  }

  /** Channels the work queues' consumers hold on the connection. */
  openChannels(): number {
    return [...this.consumers.values()].filter((consumer) => consumer.channelOpen).length;
  }

  /** The spill queues this process's grouped consumers consume, with their (priority, domain). */
  spillsHeld(): Array<{ queue: string; priority: Priority; domain: string }> {
    return [...this.consumers.values()].flatMap((consumer) => (consumer.spills?.queues ?? []).map((queue) => ({ queue, priority: consumer.priority, domain: consumer.domain })));
  }

  /** The consumer of a work queue, if this process pulled from it. */
  consumerOf(queue: string): RabbitMqQueueConsumer | undefined {
    return this.consumers.get(queue);
  }

  attach(model: ChannelModel): void {
    this.model = model;
    for (const consumer of this.consumers.values()) consumer.attach(model);
  }

  /** The connection is gone: every consumer forgets its channel (the broker requeued what it held). */
  detach(): void {
    this.model = undefined;
    for (const consumer of this.consumers.values()) consumer.detach();
  }

  /** Wakes waiting pulls (a reconnect, or close). */
  wake(): void {
    for (const consumer of this.consumers.values()) consumer.wake();
  }

  /** Close, step 1: no more deliveries; waiting pulls return. */
  async stop(): Promise<void> {
    clearInterval(this.idleTimer);
    this.wake();
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.cancel()));
  }

  /** Close, step 2: prefetched items nobody pulled go back to their queues. */
  async handBackAll(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => this.handBack(consumer)));
  }

  /** Close, step 3: the broker requeues whatever is still unsettled on the consumers' channels. */
  async closeChannels(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.close()));
  }

  /**
   * Up to `max` deliveries of the queue (a domain pull: strictly high → normal → low), each under a
   * lease of `options.leaseMs`, waiting up to `options.waitMs` for the first.
   * @throws BrokerUnavailableError when not connected; TopologyConflictError, KanbanValidationError.
   */
  async pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    if (this.host.isClosing() || max < 1) return [];
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected; reconnecting');
    const pairs = (queue.priority ? [queue.priority] : PRIORITIES).map((priority) => this.pairFor(priority, queue.domain));
    const consumers = pairs.flatMap((pair) => [pair.work, pair.grouped]);
    for (const consumer of consumers) consumer.pulls++;
    try {
      return await this.pullFrom(pairs, max, options);
    } finally {
      for (const consumer of consumers) {
        consumer.pulls--;
        consumer.lastPullAt = performance.now();
      }
    }
  }

  private async pullFrom(pairs: QueuePair[], max: number, options: PullOptions): Promise<TransportDelivery[]> {
    const consumers = pairs.flatMap((pair) => [pair.work, pair.grouped]);
    const deadline = performance.now() + Math.max(0, options.waitMs);
    const deliveries: TransportDelivery[] = [];
    let fillUntil: number | undefined;
    // Subscribing normally takes milliseconds; a pull waits for it up to its waitMs (at least the fill window, so a first pull with waitMs 0 still subscribes).
    const subscribeUntil = Math.max(deadline, performance.now() + RABBITMQ_PULL_FILL_WINDOW_MS);
    for (;;) {
      try {
        // A queue that never answers (no leader) must not hold the pull past its wait: the subscription goes on, bounded by RABBITMQ_CONSUME_TIMEOUT_MS.
        if (!(await this.startConsumers(consumers, subscribeUntil - performance.now()))) return deliveries;
      } catch (error) {
        // Items already leased by this pull are handed out rather than left to lapse.
        if (deliveries.length > 0) return deliveries;
        throw error;
      }
      if (pairs.length > 1) await this.checkOwedAbove(pairs);
      const { taken, retryInMs } = this.takeInPriorityOrder(pairs, max - deliveries.length);
      deliveries.push(...this.lease(taken, options.leaseMs));
      if (deliveries.length >= max) return deliveries;
      // Take again: the buffers may hold more, or the take started a consumer that will bring more.
      if (taken.length > 0) continue;
      const now = performance.now();
      const stop = this.host.isClosing() || options.signal?.aborted === true;
      if (deliveries.length > 0) {
        // Fewer than asked for: while a consumer is still receiving what the broker holds ready, wait a bounded fill window for it.
        fillUntil ??= Math.min(deadline, now + RABBITMQ_PULL_FILL_WINDOW_MS);
        if (stop || fillUntil <= now || !consumers.some((consumer) => consumer.filling)) return deliveries;
        await this.waitForAny(consumers, Math.min(fillUntil - now, retryInMs ?? Number.POSITIVE_INFINITY), options.signal);
        continue;
      }
      if (stop || deadline <= now) return [];
      await this.waitForAny(consumers, Math.min(deadline - now, retryInMs ?? Number.POSITIVE_INFINITY), options.signal);
    }
  }

  private pairFor(priority: Priority, domain: string): QueuePair {
    const grouped = this.consumerFor(priority, domain, true);
    let handOut = this.handOuts.get(grouped.name);
    if (!handOut) this.handOuts.set(grouped.name, (handOut = new RabbitMqGroupHandOut((group) => this.host.groupLimits(domain, group))));
    return { work: this.consumerFor(priority, domain, false), grouped, handOut };
  }

  private consumerFor(priority: Priority, domain: string, grouped: boolean): RabbitMqQueueConsumer {
    const name = grouped ? this.names.groupQueue(priority, domain) : this.names.workQueue(priority, domain);
    let consumer = this.consumers.get(name);
    if (!consumer) {
      const prefetch = grouped ? RABBITMQ_GROUP_PREFETCH : Math.min(this.settings.workerPullSize * RABBITMQ_CONSUMER_CREDIT_PULLS, RABBITMQ_MAX_PREFETCH);
      const copyMarker = grouped ? (marker: ConsumedMessage) => this.host.handBackCopy(marker, 0) : undefined;
      consumer = new RabbitMqQueueConsumer(name, priority, domain, prefetch, this.topology, this.logger, (queue, channel) => this.holdings.forgetChannel(queue, channel), copyMarker);
      if (this.model) consumer.attach(this.model);
      this.consumers.set(name, consumer);
    }
    return consumer;
  }

  /**
   * Subscribes every queue of the pull. While the broker is away (or the connection is going down
   * under the call), a pull keeps waiting for it instead of failing; a conflict or bad input throws.
   * False when the subscription has not finished within `waitMs`: it carries on (bounded by
   * RABBITMQ_CONSUME_TIMEOUT_MS) and the pull returns instead of waiting on it.
   */
  private async startConsumers(consumers: RabbitMqQueueConsumer[], waitMs: number): Promise<boolean> {
    if (consumers.every((consumer) => consumer.active && this.host.isDeclared(consumer.name))) return true;
    const starting = Promise.all(
      consumers.map(async (consumer) => {
        await this.host.ensureQueue(consumer.priority, consumer.domain);
        try {
          await consumer.start();
        } catch (error) {
          if (consumer.unanswered) this.host.onUnanswered(consumer.name, (error as Error).message);
          throw error;
        }
        this.host.onAnswered(consumer.name);
      }),
    ).then(
      () => true,
      (error: unknown) => {
        if (!(error instanceof BrokerUnavailableError)) throw error;
        return true;
      },
    );
    // When the wait ends first, the subscription goes on without this pull: its failure is only noted.
    starting.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, waitMs));
    });
    try {
      return await Promise.race([starting, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Before a lower priority is served from its buffer, a higher queue whose buffer is empty but to
   * which the broker may still be pushing (a consumer at full prefetch was settled, so ready messages
   * flow again, asynchronously) is counted once: if it holds ready messages, it is `filling` until
   * they arrive (bounded). One queue count per pull, and only in that case.
   */
  private async checkOwedAbove(pairs: QueuePair[]): Promise<void> {
    for (const [index, { work, grouped }] of pairs.entries()) {
      if (work.buffered > 0 || work.holdsBackLower || grouped.holdsBackLower) return;
      if (!pairs.slice(index + 1).some((lower) => lower.work.buffered > 0 || lower.grouped.buffered > 0)) return;
      if (work.needsOwedCheck) await work.checkOwed();
      if (work.buffered > 0 || work.holdsBackLower) return;
    }
  }

  /**
   * Strictly high → normal → low: a lower queue is not served while a higher one may still be
   * receiving what it is owed. Within a priority, fairly over groups (RabbitMqGroupHandOut), once
   * the grouped consumer received what was ready when it subscribed (else the first groups to
   * arrive would be served before the others are seen).
   */
  private takeInPriorityOrder(pairs: QueuePair[], max: number): { taken: ConsumedMessage[]; retryInMs?: number } {
    const taken: ConsumedMessage[] = [];
    let retryInMs: number | undefined;
    for (const { work, grouped, handOut } of pairs) {
      // Until the run-time limits are read, grouped items wait: a cap set at run time must hold from the first hand-out.
      if (grouped.filling || !this.host.groupLimitsKnown()) taken.push(...work.take(max - taken.length));
      else {
        const fair = handOut.take(work, grouped, max - taken.length);
        taken.push(...fair.taken);
        if (fair.retryInMs !== undefined) retryInMs = Math.min(retryInMs ?? fair.retryInMs, fair.retryInMs);
      }
      if (taken.length >= max || (pairs.length > 1 && (work.holdsBackLower || grouped.holdsBackLower))) break;
    }
    return { taken, ...(retryInMs !== undefined ? { retryInMs } : {}) };
  }

  private lease(taken: ConsumedMessage[], leaseMs: number): TransportDelivery[] {
    const deliveries: TransportDelivery[] = [];
    for (const delivery of taken) {
      const attempts = attemptsOf(delivery.message);
      const { priority, domain } = delivery.queue;
      const token = this.leasePrefix + (++this.leaseSeq).toString(36);
      const handedOut = toTransportDelivery(delivery.message, { priority, domain, lease: token }, attempts, Date.now() + leaseMs);
      const holding: Holding = { delivery, id: handedOut.id, priority, domain, attempts, malformed: isMalformed(handedOut) };
      // A copy already past the last attempt whose delivery was interrupted: the stall sweep takes it.
      if (attempts > this.settings.maxAttempts && returnsOf(delivery.message) > 0) {
        this.holdings.exhaust(holding);
        continue;
      }
      this.holdings.lease(holding, token, leaseMs);
      deliveries.push(handedOut);
    }
    return deliveries;
  }

  private waitForAny(consumers: RabbitMqQueueConsumer[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const waits = consumers.map((consumer) => consumer.waitForChange(Math.min(timeoutMs, PULL_RECHECK_MS), signal));
    return Promise.race(waits.map((wait) => wait.promise)).finally(() => {
      for (const wait of waits) wait.cancel();
    });
  }

  /**
   * Idle queues give back what they prefetched, so other processes can take it and the broker's
   * consumer timeout never fires; then, once nothing received on it is unsettled, the queue's
   * channel closes and its consumer is forgotten (domains are many), and the next pull opens them again.
   */
  private async releaseIdleConsumers(): Promise<void> {
    await this.handBackStale();
    await Promise.all([...this.consumers.values()].flatMap((consumer) => (consumer.spills ? [consumer.spills.sweep()] : [])));
    for (const [name, consumer] of this.consumers) {
      if (!this.isIdle(consumer)) continue;
      if (consumer.active) {
        await consumer.cancel();
        await this.handBack(consumer);
      }
      // Checked again after the awaits: a pull may have come meanwhile.
      if (!this.isIdle(consumer) || !consumer.releasable || this.consumers.get(name) !== consumer) continue;
      this.consumers.delete(name);
      await consumer.close();
      this.logger.debug(`Released the idle consumer channel of ${name}`);
    }
  }

  /** Grouped items buffered for RABBITMQ_GROUP_BUFFER_MAX_MS (their group capped or paced) go back to their queue as copies. */
  private async handBackStale(): Promise<void> {
    const before = performance.now() - RABBITMQ_GROUP_BUFFER_MAX_MS;
    for (const consumer of this.consumers.values()) {
      if (!consumer.grouped) continue;
      const stale = consumer.takeReceivedBefore(before);
      await Promise.all(stale.map((delivery) => this.host.handBackCopy(delivery, attemptsOf(delivery.message) - 1)));
    }
  }

  /**
   * Not pulled from for the idle time. A grouped queue's consumer holding leases is never idle: its
   * cancel would make another instance's consumer the active one, which would not count those
   * leases against their groups' caps. Nor is one about to delete a drained spill queue.
   */
  private isIdle(consumer: RabbitMqQueueConsumer): boolean {
    if (consumer.grouped && (consumer.held > 0 || consumer.spills?.retiring)) return false;
    return consumer.pulls === 0 && !consumer.hasWaiters && performance.now() - consumer.lastPullAt >= this.releaseIdleAfterMs;
  }

  /** Gives back what the consumer prefetched and nobody pulled: a copy that counts no attempt, then the original is acked. */
  async handBack(consumer: RabbitMqQueueConsumer): Promise<void> {
    const buffered = consumer.takeAll();
    await Promise.all(buffered.map((delivery) => this.host.handBackCopy(delivery, attemptsOf(delivery.message) - 1)));
    // Spill markers go back after the items, so the next holder consumes the spill queues they name.
    await Promise.all(consumer.takeMarkers().map((marker) => this.host.handBackCopy(marker, 0)));
  }
}
