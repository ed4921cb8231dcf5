import type { Logger } from '@nestjs/common';
import type { Priority } from '../../interfaces';
import type { Channel, ChannelModel, Message } from 'amqplib';
import { newItemId } from '../../codec';
import { asKanbanError } from './rabbitmq-amqp-errors';
import { copyHeaders, numberHeader, stringHeader } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import type { RabbitMqTopology } from './rabbitmq-topology';
import { RABBITMQ_DELAY_MOVE_BACKOFF_MS, RABBITMQ_DELAY_MOVER_PREFETCH, RABBITMQ_DELAY_RUNGS_MS, RABBITMQ_HEADERS } from './rabbitmq.constants';

/** Where a delayed retry goes back to when it is due. */
export interface DelayTarget {
  priority: Priority;
  domain: string;
}

const SHORTEST_RUNG_MS = RABBITMQ_DELAY_RUNGS_MS[0];

/** The largest rung not past `remainingMs`; undefined below the shortest rung. */
function rungFor(remainingMs: number): number | undefined {
  let chosen: number | undefined;
  for (const ttl of RABBITMQ_DELAY_RUNGS_MS) if (ttl <= remainingMs) chosen = ttl;
  return chosen;
}

/**
 * Retry delays kept by the broker, out of every consumer's credit. RabbitMQ 3.10 has no delayed
 * messages, and a per-message TTL only expires at the head of a queue, so each rung is a quorum
 * queue with one queue-level TTL (RABBITMQ_DELAY_RUNGS_MS) that dead-letters, at least once, into
 * the due queue. Every instance consumes the due queue: a message not yet due goes to the largest
 * rung that does not overshoot (the last stretch below the shortest rung is waited out here), a due
 * one is republished to its work queue carrying its attempt count. Each move is confirmed before the
 * due message is acked, so a crash in between makes a duplicate, never a loss.
 *
 * Depth counts delayed items as ready, per queue; the rungs are shared, so each delayed item also
 * has an empty marker in its queue's tally queue (RabbitMqNames.delayTally, declared with the work
 * queue), added before the item
 * enters the ladder and taken when it leaves. A crash between the two steps leaves the count one
 * off; it never moves an item.
 */
export class RabbitMqDelayLadder {
  private model?: ChannelModel;
  private channel?: Channel;
  /** Rungs declared on this connection. */
  private readonly declared = new Map<string, Promise<void>>();
  /** Due messages waiting out their last stretch, or a backoff after a failed move. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly topology: RabbitMqTopology,
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
  ) {}

  attach(model: ChannelModel): void {
    this.model = model;
    this.declared.clear();
  }

  /** The connection is gone: the broker requeued every due message this instance held. */
  detach(): void {
    this.model = undefined;
    this.channel = undefined;
    const pending = [...this.timers];
    this.timers.clear();
    for (const [timer, run] of pending) {
      clearTimeout(timer);
      run();
    }
  }

  /** Starts moving what the rungs hand to the due queue. The due queue must be declared. */
  async start(): Promise<void> {
    const model = this.model;
    if (!model || this.channel) return;
    try {
      const channel = await model.createChannel();
      channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ channel of ${this.names.delayDueQueue} closed by the broker: ${error.message}`));
      channel.once('close', () => {
        if (this.channel === channel) this.channel = undefined;
      });
      this.channel = channel;
      await channel.prefetch(RABBITMQ_DELAY_MOVER_PREFETCH);
      await channel.consume(this.names.delayDueQueue, (message) => {
        if (message) void this.move(channel, message);
      });
    } catch (error) {
      throw asKanbanError(error, `consuming from ${this.names.delayDueQueue}`);
    }
  }

  /**
   * Publishes a copy of `message` that comes back to `target` after `delayMs` as delivery
   * `attemptsBefore` + 1; resolves once the broker confirmed it. `onCounted` runs once the item is
   * in its queue's delayed tally (undone if the copy then fails), so depth never counts it twice.
   * `content` replaces the message body in the copy (the item with headers added for its next attempt).
   * @throws BrokerUnavailableError, QueueFullError as the publisher does.
   */
  async delay(message: Message, target: DelayTarget, attemptsBefore: number, delayMs: number, onCounted: (counted: boolean) => void, content: Buffer = message.content): Promise<void> {
    const headers = copyHeaders(message, attemptsBefore);
    headers[RABBITMQ_HEADERS.notBefore] = Date.now() + delayMs;
    headers[RABBITMQ_HEADERS.routingKey] = this.names.routingKey(target.priority, target.domain);
    const tally = this.names.delayTally(target.priority, target.domain);
    await this.publisher.publish({ exchange: '', routingKey: tally, queue: tally }, Buffer.alloc(0), { messageId: newItemId() });
    onCounted(true);
    try {
      await this.toLadder(content, messageIdOf(message), headers, delayMs);
    } catch (error) {
      await this.untally(tally);
      onCounted(false);
      throw error;
    }
  }

  /** Items of (priority, domain) waiting in the ladder, across every instance. */
  async delayedIn(priority: Priority, domain: string): Promise<number> {
    return (await this.topology.readyCount(this.names.delayTally(priority, domain))) ?? 0;
  }

  /** Items waiting in the ladder (ready in a rung or the due queue), across every instance and queue. */
  async count(): Promise<number> {
    let total = 0;
    for (const queue of [...RABBITMQ_DELAY_RUNGS_MS.map((ttl) => this.names.delayRung(ttl)), this.names.delayDueQueue]) {
      total += (await this.topology.readyCount(queue)) ?? 0;
    }
    return total;
  }

  private async toLadder(content: Buffer, messageId: string, headers: Record<string, unknown>, remainingMs: number): Promise<void> {
    const ttl = rungFor(remainingMs);
    const queue = ttl === undefined ? this.names.delayDueQueue : this.names.delayRung(ttl);
    if (ttl !== undefined) await this.declareOnce(queue, () => this.topology.declareDelayRung(ttl));
    await this.publisher.publish({ exchange: '', routingKey: queue, queue }, content, { messageId, headers });
  }

  private declareOnce(queue: string, declare: () => Promise<void>): Promise<void> {
    let declaring = this.declared.get(queue);
    if (!declaring) {
      declaring = declare();
      this.declared.set(queue, declaring);
      declaring.catch(() => this.declared.delete(queue));
    }
    return declaring;
  }

  /** Takes one marker from a tally queue; a failure only leaves the count one high, so it is logged, not thrown. */
  private async untally(tally: string): Promise<void> {
    try {
      const channel = this.channel;
      if (!channel) throw new Error('not connected');
      await channel.get(tally, { noAck: true });
    } catch (error) {
      this.logger.warn(`Could not update the delayed count in ${tally}: ${(error as Error).message}`);
    }
  }

  private async move(channel: Channel, message: Message): Promise<void> {
    const { headers } = message.properties;
    const routingKey = stringHeader(headers, RABBITMQ_HEADERS.routingKey);
    const notBefore = numberHeader(headers, RABBITMQ_HEADERS.notBefore);
    const copy = copyHeaders(message, numberHeader(headers, RABBITMQ_HEADERS.attemptsBefore) ?? 0);
    try {
      if (routingKey === undefined || notBefore === undefined) {
        // Not a kanban delay: the intake queue turns it into a dead letter rather than dropping it.
        this.logger.error(`A message without a due time or target arrived on ${this.names.delayDueQueue}; dead-lettering it`);
        await this.publisher.publish({ exchange: '', routingKey: this.names.intakeQueue, queue: this.names.intakeQueue }, message.content, { messageId: messageIdOf(message), headers: copy });
      } else if (notBefore - Date.now() >= SHORTEST_RUNG_MS) {
        await this.toLadder(message.content, messageIdOf(message), copy, notBefore - Date.now());
      } else {
        await this.waitFor(notBefore - Date.now());
        if (this.channel !== channel) return;
        delete copy[RABBITMQ_HEADERS.notBefore];
        delete copy[RABBITMQ_HEADERS.routingKey];
        const target = this.names.parseRoutingKey(routingKey);
        // A grouped item goes back to its grouped queue, so its group's limits still apply.
        const grouped = target !== undefined && stringHeader(headers, RABBITMQ_HEADERS.group) !== undefined;
        const destination = grouped ? this.names.publishTarget(target.priority, target.domain, true) : { exchange: this.names.workExchange, routingKey, queue: this.names.queueOf(routingKey) };
        await this.publisher.publish(destination, message.content, { messageId: messageIdOf(message), headers: copy });
        if (target) await this.untally(this.names.delayTally(target.priority, target.domain));
      }
    } catch (error) {
      if (this.channel !== channel) return;
      this.logger.warn(`Could not move a delayed retry from ${this.names.delayDueQueue} (${(error as Error).message}); trying again in ${RABBITMQ_DELAY_MOVE_BACKOFF_MS} ms`);
      this.later(RABBITMQ_DELAY_MOVE_BACKOFF_MS, () => settle(channel, message, 'requeue'));
      return;
    }
    // A channel that closed since hands the message back to the due queue: moved twice, never lost.
    settle(channel, message, 'ack');
  }

  private waitFor(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.later(ms, resolve));
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.timers.set(timer, run);
  }
}

function messageIdOf(message: Message): string {
  return typeof message.properties.messageId === 'string' ? message.properties.messageId : newItemId();
}

function settle(channel: Channel, message: Message, how: 'ack' | 'requeue'): void {
  try {
    if (how === 'ack') channel.ack(message);
    else channel.nack(message, false, true);
  } catch {
    // The channel closed: the broker already put the message back in the due queue.
  }
}
