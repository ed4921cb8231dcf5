import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import type { Priority } from '../../interfaces';
import { asKanbanError } from './rabbitmq-amqp-errors';
import { stringHeader } from './rabbitmq-message';
import { RabbitMqSpillHolder } from './rabbitmq-spill-holder';
import type { RabbitMqTopology } from './rabbitmq-topology';
import {
  RABBITMQ_CONSUME_TIMEOUT_MS,
  RABBITMQ_CONSUMER_FILL_TIMEOUT_MS,
  RABBITMQ_GROUP_SPILL_PREFETCH,
  RABBITMQ_HEADERS,
  RABBITMQ_IN_TRANSIT_MS,
  RABBITMQ_MAX_CONSUMERS_PER_QUEUE,
} from './rabbitmq.constants';

/** After finding the queue empty while every consumer is full, wait this long before asking the broker again. */
const GROWTH_RECHECK_MS = 250;

/** One basic.consume, with `prefetch` deliveries of credit: on the queue, or on one of a grouped queue's spill queues. */
export interface ConsumerLane {
  queue: string;
  prefetch: number;
  consumerTag?: string;
  /** Delivered on this consumer and not yet acked or rejected: buffered, leased, waiting out a retry, or awaiting the sweep. */
  unsettled: number;
  /** Messages that were ready when it subscribed, up to its prefetch: the broker sends those first. */
  expected: number;
  received: number;
  filled: boolean;
  fillTimer?: NodeJS.Timeout;
}

/** A message the broker delivered to this process, tied to the channel it must be settled on. */
export interface ConsumedMessage {
  message: ConsumeMessage;
  channel: Channel;
  lane: ConsumerLane;
  queue: RabbitMqQueueConsumer;
  /** On a grouped queue: the item's group (its header). */
  group?: string;
  /** A spill marker or end marker (RabbitMqSpillHolder), not an item. */
  marker?: true;
  /** Acked or returned already: a second settle of one delivery tag would close the channel. */
  settled?: true;
  /** performance.now() when it arrived. */
  receivedAt: number;
}

/**
 * Pull on top of push for one (priority, domain) queue. Long-lived consumers with a prefetch of
 * `workerPullSize` × RABBITMQ_CONSUMER_CREDIT_PULLS fill a local buffer that `pull` takes from (basic.get on a quorum queue is one
 * Raft command per message: ~730/s here against ~4,000/s consumed). When every consumer is full
 * of unsettled deliveries and the broker still has ready messages, another consumer is added, up to
 * RABBITMQ_MAX_CONSUMERS_PER_QUEUE. All consumers share one channel, the one their deliveries must
 * be settled on; when it closes the broker has already requeued everything it held.
 */
export class RabbitMqQueueConsumer {
  private model?: ChannelModel;
  private channel?: Channel;
  private opening?: Promise<Channel>;
  private starting?: Promise<void>;
  private growing?: Promise<void>;
  private lanes: ConsumerLane[] = [];
  private buffer: ConsumedMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private checkedEmptyAt = Number.NEGATIVE_INFINITY;
  /**
   * A delivery was settled on a consumer at full prefetch, or returned to the queue: the broker may
   * now push messages that were ready, asynchronously. Checked with one queue count by a domain pull
   * that would otherwise serve a lower priority.
   */
  private mayBeOwed = false;
  /** Deliveries the broker is expected to push (ready messages, up to the free credit) and until when to wait for them. */
  private owed = 0;
  private owedUntil = 0;
  private checkingOwed?: Promise<void>;
  /**
   * Messages this process published to the queue (confirmed) while its consumer had free credit, by
   * message id, with until when to expect them: the broker pushes them to a consumer at about the
   * time it confirms, so one may still be on the way. Another process's consumer may take it instead,
   * hence the bound (RABBITMQ_IN_TRANSIT_MS).
   */
  private readonly inTransit = new Map<string, number>();
  lastPullAt = performance.now();
  /** Pulls using this queue right now: a queue in use is never released. */
  pulls = 0;
  /** Deliveries received on the current channel and not settled yet (buffered, leased or being moved): closing the channel would requeue them. */
  private unsettled = 0;
  /** The broker did not answer this queue's last basic.consume (RABBITMQ_CONSUME_TIMEOUT_MS): a quorum queue without a leader, most likely. */
  unanswered = false;
  /** On a grouped queue: deliveries received on the current channel and not settled, by group (buffered or leased). */
  private readonly unsettledByGroup = new Map<string, number>();
  /** Spill markers and end markers received on the current channel and not settled: held, but no item. */
  private markers = 0;
  /** Subscriptions one at a time: basic.qos sets the prefetch of the channel's next basic.consume. */
  private subscribing: Promise<unknown> = Promise.resolve();
  /** On a grouped queue: the spill queues consumed beside it. */
  readonly spills?: RabbitMqSpillHolder;

  constructor(
    readonly name: string,
    readonly priority: Priority,
    readonly domain: string,
    private readonly prefetch: number,
    private readonly topology: RabbitMqTopology,
    private readonly logger: Logger,
    /** The channel closed: every delivery from it is void (the broker requeued them). */
    private readonly onChannelLost: (queue: RabbitMqQueueConsumer, channel: Channel) => void,
    /**
     * On a grouped queue (single active consumer: one consumer only, deliveries tracked by group):
     * publishes a fresh copy of a spill marker to where it came from, then acks the original.
     */
    copyMarker?: (marker: ConsumedMessage) => Promise<void>,
  ) {
    this.grouped = copyMarker !== undefined;
    if (copyMarker) this.spills = new RabbitMqSpillHolder(this, topology, copyMarker, logger);
  }

  readonly grouped: boolean;

  /** Deliveries received on the current channel that are out of the buffer and not settled yet: leased, or being moved. */
  get held(): number {
    return this.unsettled - this.buffer.length - this.markers;
  }

  /** Deliveries of `group` received on the current channel and not settled (buffered or leased). */
  unsettledOf(group: string): number {
    return this.unsettledByGroup.get(group) ?? 0;
  }

  /** The groups with deliveries received on the current channel and not settled. */
  groupsHeld(): IterableIterator<string> {
    return this.unsettledByGroup.keys();
  }

  /** The buffered deliveries, oldest first, to choose from (takeChosen). */
  get bufferedView(): readonly ConsumedMessage[] {
    return this.buffer;
  }

  /** Removes the buffered deliveries at `indices` and returns them in that order. */
  takeChosen(indices: number[]): ConsumedMessage[] {
    if (indices.length === 0) return [];
    this.lastPullAt = performance.now();
    const taken = indices.map((index) => this.buffer[index]);
    const chosen = new Set(indices);
    this.buffer = this.buffer.filter((_, index) => !chosen.has(index));
    return taken;
  }

  /** Removes the buffered deliveries that arrived before `before` (performance.now()). */
  takeReceivedBefore(before: number): ConsumedMessage[] {
    const old = this.buffer.filter((delivery) => delivery.receivedAt < before);
    if (old.length > 0) this.buffer = this.buffer.filter((delivery) => delivery.receivedAt >= before);
    return old;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Consuming the queue itself (spill queues aside). */
  get active(): boolean {
    return this.mainLanes().length > 0;
  }

  private mainLanes(): ConsumerLane[] {
    return this.lanes.filter((lane) => lane.queue === this.name);
  }

  /**
   * Whether the queue's channel can close with nothing lost: no consumer subscribed or starting, no
   * pull using it, nothing buffered and nothing received on the channel left unsettled.
   */
  get releasable(): boolean {
    return this.pulls === 0 && this.lanes.length === 0 && this.starting === undefined && this.opening === undefined && this.buffer.length === 0 && this.waiters.size === 0 && this.unsettled === 0;
  }

  /** Whether this queue holds a channel on the connection (open or opening). */
  get channelOpen(): boolean {
    return this.channel !== undefined || this.opening !== undefined;
  }

  attach(model: ChannelModel): void {
    this.model = model;
  }

  /** The connection is gone: forget the channel and whatever it delivered. */
  detach(): void {
    this.model = undefined;
    const channel = this.channel;
    this.reset();
    if (channel) this.onChannelLost(this, channel);
  }

  /** Subscribes once; later calls resolve at once while a consumer is attached. */
  start(): Promise<void> {
    if (this.active) return Promise.resolve();
    this.starting ??= this.addLane().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Whether a domain pull must wait before serving lower priorities: messages this queue is owed may still be on the way. */
  get filling(): boolean {
    return (
      this.starting !== undefined || this.growing !== undefined || this.checkingOwed !== undefined || this.lanes.some((lane) => !lane.filled) || (this.owed > 0 && performance.now() < this.owedUntil)
    );
  }

  /** Whether a domain pull must not serve lower priorities yet: `filling`, or a message this process just published here may still be on its way. */
  get holdsBackLower(): boolean {
    return this.filling || this.awaitingOwnPublish();
  }

  /** This process published `messageId` to the queue and the broker confirmed it: a delivery may be on its way. */
  expectPublished(messageId: string): void {
    if (!this.mainLanes().some((lane) => lane.unsettled < lane.prefetch)) return;
    this.inTransit.set(messageId, performance.now() + RABBITMQ_IN_TRANSIT_MS);
  }

  private awaitingOwnPublish(): boolean {
    if (this.inTransit.size === 0) return false;
    const now = performance.now();
    for (const [id, until] of this.inTransit) {
      if (until > now) return true;
      this.inTransit.delete(id);
    }
    return false;
  }

  /** Whether `checkOwed` has something to find out: the buffer is empty but the broker may be pushing more. */
  get needsOwedCheck(): boolean {
    return this.mayBeOwed && this.buffer.length === 0 && this.active && !this.filling;
  }

  /**
   * One queue count: when messages are ready and a consumer has free credit, the broker is pushing
   * them, and `filling` stays true until they arrive (at most RABBITMQ_CONSUMER_FILL_TIMEOUT_MS).
   * With no free credit, growth is started instead (growIfSaturated).
   */
  checkOwed(): Promise<void> {
    if (!this.needsOwedCheck) return this.checkingOwed ?? Promise.resolve();
    this.mayBeOwed = false;
    this.checkingOwed = (async () => {
      const ready = (await this.topology.readyCount(this.name)) ?? 0;
      const credit = this.mainLanes().reduce((sum, lane) => sum + Math.max(0, lane.prefetch - lane.unsettled), 0);
      if (ready > 0 && credit > 0) {
        this.owed = Math.min(ready, credit);
        this.owedUntil = performance.now() + RABBITMQ_CONSUMER_FILL_TIMEOUT_MS;
      } else if (ready > 0) {
        this.checkedEmptyAt = Number.NEGATIVE_INFINITY;
        this.growIfSaturated();
      }
    })()
      .catch((error: unknown) => this.logger.warn(`Could not count the ready messages of ${this.name}: ${(error as Error).message}`))
      .finally(() => {
        this.checkingOwed = undefined;
        this.wake();
      });
    return this.checkingOwed;
  }

  /** The next `max` buffered deliveries, in the order the broker sent them. */
  take(max: number): ConsumedMessage[] {
    this.lastPullAt = performance.now();
    const taken = this.buffer.splice(0, max);
    if (taken.length < max) this.growIfSaturated();
    return taken;
  }

  /** Every buffered delivery, removed from the buffer (to be handed back to the queue). */
  takeAll(): ConsumedMessage[] {
    return this.buffer.splice(0);
  }

  /** Whether this delivery can still be settled: its channel is the open one. */
  owns(delivery: ConsumedMessage): boolean {
    return delivery.channel === this.channel;
  }

  /**
   * Acks, rejects with requeue (counted as a failed delivery by every RabbitMQ version), or releases
   * (nack with requeue). False when the channel is gone, in which case the broker already requeued it.
   */
  settle(delivery: ConsumedMessage, how: 'ack' | 'reject' | 'release'): boolean {
    if (!this.owns(delivery) || delivery.settled) return false;
    delivery.settled = true;
    try {
      if (how === 'ack') delivery.channel.ack(delivery.message);
      else if (how === 'reject') delivery.channel.reject(delivery.message, true);
      else delivery.channel.nack(delivery.message, false, true);
    } catch {
      return false;
    }
    // At full prefetch the broker was holding back; a requeued message is ready again.
    if (delivery.lane.unsettled >= delivery.lane.prefetch || how !== 'ack') this.mayBeOwed = true;
    if (how !== 'ack') this.spills?.touch(delivery.lane.queue);
    delivery.lane.unsettled--;
    this.unsettled--;
    if (delivery.marker) this.markers--;
    if (delivery.group !== undefined) {
      const left = this.unsettledOf(delivery.group) - 1;
      if (left > 0) this.unsettledByGroup.set(delivery.group, left);
      else this.unsettledByGroup.delete(delivery.group);
    }
    return true;
  }

  /**
   * Settles like `settle`, then waits until the broker has processed it: AMQP acks are not
   * answered, but a channel's frames are handled in order, so the answer to a basic.qos sent after
   * the ack (same prefetch, which only applies to consumers created later) comes after it.
   */
  async settleAndSync(delivery: ConsumedMessage, how: 'ack' | 'reject' | 'release'): Promise<boolean> {
    if (!this.settle(delivery, how)) return false;
    try {
      await delivery.channel.prefetch(this.prefetch);
    } catch {
      // The channel closed after the ack went out: the broker had it or requeued the message.
    }
    return true;
  }

  /** Resolves when a delivery arrives or the consumer's state changes, after `timeoutMs`, or on abort. */
  waitForChange(timeoutMs: number, signal?: AbortSignal): { promise: Promise<void>; cancel(): void } {
    let cancel = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      cancel = done;
    });
    return { promise, cancel };
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }

  get hasWaiters(): boolean {
    return this.waiters.size > 0;
  }

  /** Stops the consumers; deliveries already received stay on the channel and can still be settled. */
  async cancel(): Promise<void> {
    const channel = this.channel;
    const lanes = this.lanes;
    this.lanes = [];
    for (const lane of lanes) clearTimeout(lane.fillTimer);
    if (!channel) return;
    for (const lane of lanes) {
      if (lane.consumerTag) await channel.cancel(lane.consumerTag).catch(() => undefined);
    }
  }

  /** Closes the channel: the broker requeues whatever is still unsettled on it. */
  async close(): Promise<void> {
    const channel = this.channel;
    this.reset();
    if (channel) {
      this.onChannelLost(this, channel);
      await channel.close().catch(() => undefined);
    }
  }

  private growIfSaturated(): void {
    // A second consumer of a single-active-consumer queue would only wait behind the first.
    if (this.grouped) return;
    const saturated = this.lanes.length > 0 && this.lanes.every((lane) => lane.unsettled >= lane.prefetch);
    if (!saturated || this.buffer.length > 0 || this.growing || this.lanes.length >= RABBITMQ_MAX_CONSUMERS_PER_QUEUE) return;
    if (performance.now() - this.checkedEmptyAt < GROWTH_RECHECK_MS) return;
    this.growing = (async () => {
      const ready = await this.topology.readyCount(this.name);
      if (ready) await this.addLane();
      else this.checkedEmptyAt = performance.now();
    })()
      .catch((error: unknown) => this.logger.warn(`Could not add a consumer to ${this.name}: ${(error as Error).message}`))
      .finally(() => {
        this.growing = undefined;
        this.wake();
      });
  }

  private async addLane(): Promise<void> {
    this.unanswered = false;
    try {
      const ready = (await this.topology.readyCount(this.name)) ?? 0;
      const lane: ConsumerLane = { queue: this.name, prefetch: this.prefetch, unsettled: 0, expected: Math.min(ready, this.prefetch), received: 0, filled: false };
      await this.subscribe(lane);
      if (lane.received >= lane.expected) this.markFilled(lane);
      else {
        lane.fillTimer = setTimeout(() => this.markFilled(lane), RABBITMQ_CONSUMER_FILL_TIMEOUT_MS);
        lane.fillTimer.unref();
      }
    } catch (error) {
      throw asKanbanError(error, `consuming from ${this.name}`);
    }
  }

  /**
   * Consumes a spill queue of this grouped queue on the same channel, so its deliveries join the
   * buffer, the groups' counts and the hand-out. Counted filled at once: a burst's items arriving a
   * moment later only delay that group.
   */
  async addSpillLane(queue: string): Promise<ConsumerLane> {
    const lane: ConsumerLane = { queue, prefetch: RABBITMQ_GROUP_SPILL_PREFETCH, unsettled: 0, expected: 0, received: 0, filled: true };
    try {
      await this.subscribe(lane);
    } catch (error) {
      throw asKanbanError(error, `consuming from ${queue}`);
    }
    return lane;
  }

  /** Stops one lane; what it delivered stays settleable on the channel. */
  async cancelLane(lane: ConsumerLane): Promise<void> {
    const channel = this.channel;
    this.lanes = this.lanes.filter((other) => other !== lane);
    clearTimeout(lane.fillTimer);
    if (channel && lane.consumerTag) await channel.cancel(lane.consumerTag);
  }

  /** basic.qos then basic.consume, one lane at a time on the channel. */
  private subscribe(lane: ConsumerLane): Promise<void> {
    const subscribing = this.subscribing.then(async () => {
      const channel = await this.openChannel();
      await channel.prefetch(lane.prefetch);
      this.lanes.push(lane);
      try {
        const { consumerTag } = await this.bounded(
          channel,
          channel.consume(lane.queue, (message) => this.onMessage(channel, lane, message)),
        );
        lane.consumerTag = consumerTag;
        this.unanswered = false;
      } catch (error) {
        this.lanes = this.lanes.filter((other) => other !== lane);
        throw error;
      }
    });
    this.subscribing = subscribing.catch(() => undefined);
    return subscribing;
  }

  /**
   * The broker's answer to basic.consume, or BrokerUnavailableError after RABBITMQ_CONSUME_TIMEOUT_MS:
   * the channel waiting for it is closed (a late consume-ok must not leave a consumer nobody reads).
   */
  private async bounded<T>(channel: Channel, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.unanswered = true;
        if (this.channel === channel) {
          this.reset();
          this.onChannelLost(this, channel);
        }
        channel.close().catch(() => undefined);
        reject(
          new BrokerUnavailableError(
            'rabbitmq',
            `queue ${this.name} did not answer basic.consume within ${RABBITMQ_CONSUME_TIMEOUT_MS} ms (a quorum queue without a leader? see \`rabbitmq-queues quorum_status ${this.name}\`)`,
          ),
        );
      }, RABBITMQ_CONSUME_TIMEOUT_MS);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onMessage(channel: Channel, lane: ConsumerLane, message: ConsumeMessage | null): void {
    if (channel !== this.channel) return;
    if (!message) {
      // The broker cancelled the consumer (queue deleted); its deliveries stay settleable on the channel.
      this.logger.warn(`RabbitMQ cancelled the consumer of ${lane.queue} (queue deleted?)`);
      clearTimeout(lane.fillTimer);
      this.lanes = this.lanes.filter((other) => other !== lane);
      this.spills?.onLaneCancelled(lane);
      this.wake();
      return;
    }
    lane.received++;
    lane.unsettled++;
    this.unsettled++;
    if (this.inTransit.size > 0 && typeof message.properties.messageId === 'string') this.inTransit.delete(message.properties.messageId);
    if (this.owed > 0) this.owed--;
    if (!this.spills || !this.takeMarker(channel, lane, message)) {
      const group = this.grouped ? (stringHeader(message.properties.headers, RABBITMQ_HEADERS.group) ?? '') : undefined;
      if (group !== undefined) this.unsettledByGroup.set(group, this.unsettledOf(group) + 1);
      this.buffer.push({ message, channel, lane, queue: this, group, receivedAt: performance.now() });
    }
    if (!lane.filled && lane.received >= lane.expected) this.markFilled(lane);
    this.wake();
  }

  /** A spill marker or end marker on a grouped queue goes to the spill holder instead of the buffer. */
  private takeMarker(channel: Channel, lane: ConsumerLane, message: ConsumeMessage): boolean {
    const spills = this.spills as RabbitMqSpillHolder;
    const { headers } = message.properties;
    if (lane.queue !== this.name) spills.touch(lane.queue);
    const spillQueue = lane.queue === this.name ? stringHeader(headers, RABBITMQ_HEADERS.spill) : undefined;
    const end = lane.queue !== this.name && stringHeader(headers, RABBITMQ_HEADERS.spillEnd) !== undefined;
    if (spillQueue === undefined && !end) return false;
    this.markers++;
    const marker: ConsumedMessage = { message, channel, lane, queue: this, marker: true, receivedAt: performance.now() };
    if (spillQueue !== undefined) spills.onMarker(marker, spillQueue);
    else spills.onEnd(marker, lane.queue);
    return true;
  }

  /** The spill markers held, removed, to be given back with the buffer (hand-back); their lanes are cancelled. */
  takeMarkers(): ConsumedMessage[] {
    return this.spills?.takeMarkers() ?? [];
  }

  private markFilled(lane: ConsumerLane): void {
    if (lane.filled) return;
    lane.filled = true;
    clearTimeout(lane.fillTimer);
    this.wake();
  }

  private openChannel(): Promise<Channel> {
    if (this.channel) return Promise.resolve(this.channel);
    const model = this.model;
    if (!model) return Promise.reject(new BrokerUnavailableError('rabbitmq', 'not connected'));
    this.opening ??= model
      .createChannel()
      .then((channel) => {
        channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ channel of ${this.name} closed by the broker: ${error.message}`));
        channel.once('close', () => {
          if (this.channel !== channel) return;
          this.reset();
          this.onChannelLost(this, channel);
        });
        this.channel = channel;
        return channel;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  private reset(): void {
    for (const lane of this.lanes) clearTimeout(lane.fillTimer);
    this.channel = undefined;
    this.lanes = [];
    this.buffer = [];
    this.unsettled = 0;
    this.unsettledByGroup.clear();
    this.markers = 0;
    this.spills?.reset();
    this.checkedEmptyAt = Number.NEGATIVE_INFINITY;
    this.mayBeOwed = false;
    this.owed = 0;
    this.inTransit.clear();
    this.wake();
  }
}
