import type { Logger } from '@nestjs/common';
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
  routingKey: string;
  /** The work queue, named in errors. */
  queue: string;
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
 */
export class RabbitMqDelayLadder {
  private model?: ChannelModel;
  private channel?: Channel;
  private readonly rungs = new Map<number, Promise<void>>();
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
    this.rungs.clear();
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
   * `attemptsBefore` + 1; resolves once the broker confirmed it.
   * @throws BrokerUnavailableError, QueueFullError as the publisher does.
   */
  async delay(message: Message, target: DelayTarget, attemptsBefore: number, delayMs: number): Promise<void> {
    const headers = copyHeaders(message, attemptsBefore);
    headers[RABBITMQ_HEADERS.notBefore] = Date.now() + delayMs;
    headers[RABBITMQ_HEADERS.routingKey] = target.routingKey;
    await this.toLadder(message.content, messageIdOf(message), headers, delayMs);
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
    if (ttl !== undefined) await this.declareRung(ttl);
    await this.publisher.publish({ exchange: '', routingKey: queue, queue }, content, { messageId, headers });
  }

  private declareRung(ttl: number): Promise<void> {
    let declaring = this.rungs.get(ttl);
    if (!declaring) {
      declaring = this.topology.declareDelayRung(ttl);
      this.rungs.set(ttl, declaring);
      declaring.catch(() => this.rungs.delete(ttl));
    }
    return declaring;
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
        const queue = this.names.queueOf(routingKey);
        await this.publisher.publish({ exchange: this.names.workExchange, routingKey, queue }, message.content, { messageId: messageIdOf(message), headers: copy });
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
