import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import { asKanbanError } from './rabbitmq-amqp-errors';
import type { RabbitMqDeadLetterIndex } from './rabbitmq-dead-letter-index';
import { readLetterKey } from './rabbitmq-dead-letter-record';
import { numberHeader, stringHeader } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import { RABBITMQ_DEAD_LETTER_TAIL_PREFETCH, RABBITMQ_HEADERS, RABBITMQ_LOG_RECORDS, RABBITMQ_REPLAY_CLAIM_MS } from './rabbitmq.constants';

/** Header RabbitMQ puts on each message read from a stream. */
const STREAM_OFFSET_HEADER = 'x-stream-offset';
/** Records acknowledged at once (a stream read consumes nothing: an ack only returns credit). */
const ACK_EVERY = 200;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Reads the dead-letter log from its first record and keeps following it, applying each record to
 * the index in log order. It resumes after the last record it applied when it is started again
 * (a new connection, or a channel the broker closed), so the index is built once per process.
 * A record carrying a token wakes whoever waits for that token: the way an instance knows that
 * its index holds everything appended before a record of its own.
 */
export class RabbitMqDeadLetterTail {
  private channel?: Promise<Channel>;
  private nextOffset = 0;
  /** Bumped by each start and stop, so events of a reader that was replaced are ignored. */
  private generation = 0;
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly index: RabbitMqDeadLetterIndex,
    private readonly logger: Logger,
  ) {}

  /** Starts following the log on `model` unless it already does. */
  follow(model: ChannelModel): Promise<void> {
    this.channel ??= this.open(model);
    const opening = this.channel;
    return opening.then(
      () => undefined,
      (error: unknown) => {
        if (this.channel === opening) this.channel = undefined;
        throw asKanbanError(error, `reading ${this.names.deadLetterLog}`);
      },
    );
  }

  /** Stops following (the connection went away); waiters fail, the index and position are kept. */
  stop(reason: string): void {
    this.generation++;
    this.channel = undefined;
    for (const [token, waiter] of this.waiters) this.fail(token, waiter, new BrokerUnavailableError('rabbitmq', reason));
  }

  /**
   * A promise that resolves once the record carrying `token` was applied; register it before
   * appending the record. It fails when the reader makes no progress for `timeoutMs` (a first
   * read of a long log takes as long as it takes). `cancel` drops it when the append failed.
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
        this.fail(token, waiter, new BrokerUnavailableError('rabbitmq', `the reader of ${this.names.deadLetterLog} made no progress for ${timeoutMs} ms`));
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
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ dead-letter log reader: ${error.message}`));
    channel.once('close', () => stopped(`the channel reading ${this.names.deadLetterLog} closed`));
    await channel.prefetch(RABBITMQ_DEAD_LETTER_TAIL_PREFETCH);
    let unacked = 0;
    await channel.consume(
      this.names.deadLetterLog,
      (message) => {
        if (!message) {
          stopped(`the broker cancelled the reader of ${this.names.deadLetterLog}`);
          return;
        }
        if (++unacked >= ACK_EVERY) {
          channel.ack(message, true);
          unacked = 0;
        }
        this.apply(message);
      },
      { noAck: false, arguments: { [STREAM_OFFSET_HEADER]: this.nextOffset } },
    );
    return channel;
  }

  private apply(message: ConsumeMessage): void {
    const { headers, messageId } = message.properties;
    const offset = numberHeader(headers, STREAM_OFFSET_HEADER);
    // A read resumed at an offset starts at the beginning of that offset's chunk.
    if (offset === undefined || offset < this.nextOffset) return;
    this.nextOffset = offset + 1;
    const id = typeof messageId === 'string' ? messageId : undefined;
    switch (stringHeader(headers, RABBITMQ_HEADERS.record)) {
      case undefined: {
        const letter = readLetterKey(message);
        if (letter) this.index.addLetter(offset, letter.id, letter.domain, letter.reason);
        break;
      }
      case RABBITMQ_LOG_RECORDS.removed:
        if (id) this.index.remove(id);
        break;
      case RABBITMQ_LOG_RECORDS.claim: {
        const itemId = stringHeader(headers, RABBITMQ_HEADERS.claimItem);
        const claimedAt = numberHeader(headers, RABBITMQ_HEADERS.claimedAt);
        const token = stringHeader(headers, RABBITMQ_HEADERS.token);
        if (id && itemId && claimedAt !== undefined && token) this.index.claim(id, { token, itemId, claimedAt }, RABBITMQ_REPLAY_CLAIM_MS);
        break;
      }
      default:
        break;
    }
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
