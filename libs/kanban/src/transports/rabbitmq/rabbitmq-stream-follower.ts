import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import { asKanbanError } from './rabbitmq-amqp-errors';
import { numberHeader, stringHeader } from './rabbitmq-message';
import { RABBITMQ_HEADERS } from './rabbitmq.constants';

/** Header RabbitMQ puts on each message read from a stream. */
const STREAM_OFFSET_HEADER = 'x-stream-offset';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Reads a stream from its first record and keeps following it, handing each record and its offset
 * to `apply` in stream order, once. Started again (a new connection, a channel the broker closed) it resumes
 * after the last record it applied, so the stream is read once per process. A record carrying a
 * token (header `x-kanban-token`) wakes whoever waits for it: the way an instance knows it has
 * applied everything appended before a record of its own.
 */
export class RabbitMqStreamFollower {
  private channel?: Promise<Channel>;
  private nextOffset = 0;
  /** Bumped by each start and stop, so events of a reader that was replaced are ignored. */
  private generation = 0;
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly stream: string,
    private readonly prefetch: number,
    private readonly apply: (message: ConsumeMessage, offset: number) => void,
    private readonly logger: Logger,
  ) {}

  /** Changes whenever the reader starts or stops: a catch-up proven for one reader says nothing about the next. */
  get readerGeneration(): number {
    return this.generation;
  }

  /** Starts following the stream on `model` unless it already does. */
  follow(model: ChannelModel): Promise<void> {
    this.channel ??= this.open(model);
    const opening = this.channel;
    return opening.then(
      () => undefined,
      (error: unknown) => {
        if (this.channel === opening) this.channel = undefined;
        throw asKanbanError(error, `reading ${this.stream}`);
      },
    );
  }

  /** Stops following (the connection went away); waiters fail, the position is kept. */
  stop(reason: string): void {
    this.generation++;
    const channel = this.channel;
    this.channel = undefined;
    channel?.then((open) => open.close()).catch(() => undefined);
    for (const [token, waiter] of this.waiters) this.fail(token, waiter, new BrokerUnavailableError('rabbitmq', reason));
  }

  /**
   * A promise that resolves once the record carrying `token` was applied; register it before
   * appending the record. It fails when the reader makes no progress for `timeoutMs` (a first
   * read of a long stream takes as long as it takes). `cancel` drops it when the append failed.
   */
  expect(token: string, timeoutMs: number): { seen: Promise<void>; cancel: () => void } {
    let cancel = (): void => undefined;
    const seen = new Promise<void>((resolve, reject) => {
      let offsetAtCheck = this.nextOffset;
      const check = (): void => {
        const waiter = this.waiters.get(token);
        if (!waiter) return;
        if (this.nextOffset > offsetAtCheck) {
          offsetAtCheck = this.nextOffset;
          waiter.timer = setTimeout(check, timeoutMs);
          return;
        }
        this.fail(token, waiter, new BrokerUnavailableError('rabbitmq', `the reader of ${this.stream} made no progress for ${timeoutMs} ms`));
      };
      const timer = setTimeout(check, timeoutMs);
      this.waiters.set(token, { resolve, reject, timer });
      cancel = () => {
        const waiter = this.waiters.get(token);
        if (waiter) clearTimeout(waiter.timer);
        this.waiters.delete(token);
      };
    });
    return { seen, cancel };
  }

  private async open(model: ChannelModel): Promise<Channel> {
    const generation = ++this.generation;
    const channel = await model.createChannel();
    const stopped = (why: string): void => {
      if (this.generation === generation) this.stop(why);
    };
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ reader of ${this.stream}: ${error.message}`));
    channel.once('close', () => stopped(`the channel reading ${this.stream} closed`));
    await channel.prefetch(this.prefetch);
    let unacked = 0;
    await channel.consume(
      this.stream,
      (message) => {
        if (!message) {
          stopped(`the broker cancelled the reader of ${this.stream}`);
          return;
        }
        // A stream read consumes nothing: acks only return credit, so they go out in batches.
        if (++unacked >= this.prefetch / 2) {
          channel.ack(message, true);
          unacked = 0;
        }
        this.read(message);
      },
      { noAck: false, arguments: { [STREAM_OFFSET_HEADER]: this.nextOffset } },
    );
    return channel;
  }

  private read(message: ConsumeMessage): void {
    const { headers } = message.properties;
    const offset = numberHeader(headers, STREAM_OFFSET_HEADER);
    // A read resumed at an offset starts at the beginning of that offset's chunk.
    if (offset === undefined || offset < this.nextOffset) return;
    this.nextOffset = offset + 1;
    this.apply(message, offset);
    const token = stringHeader(headers, RABBITMQ_HEADERS.token);
    const waiter = token === undefined ? undefined : this.waiters.get(token);
    if (token !== undefined && waiter) {
      clearTimeout(waiter.timer);
      this.waiters.delete(token);
      waiter.resolve();
    }
  }

  private fail(token: string, waiter: Waiter, error: Error): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(token);
    waiter.reject(error);
  }
}
