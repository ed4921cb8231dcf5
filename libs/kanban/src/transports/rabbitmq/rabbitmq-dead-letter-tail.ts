import type { Logger } from '@nestjs/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { RabbitMqDeadLetterIndex } from './rabbitmq-dead-letter-index';
import { readLetterKey } from './rabbitmq-dead-letter-record';
import { numberHeader, stringHeader } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import { RabbitMqStreamFollower } from './rabbitmq-stream-follower';
import { RABBITMQ_DEAD_LETTER_TAIL_PREFETCH, RABBITMQ_HEADERS, RABBITMQ_LOG_RECORDS, RABBITMQ_REPLAY_CLAIM_MS } from './rabbitmq.constants';

/**
 * Reads the dead-letter log from its first record and keeps following it (RabbitMqStreamFollower),
 * applying each record to the index in log order, so the index is built once per process. A record
 * carrying a token wakes whoever waits for that token: the way an instance knows that its index
 * holds everything appended before a record of its own.
 */
export class RabbitMqDeadLetterTail {
  private readonly follower: RabbitMqStreamFollower;

  constructor(
    names: RabbitMqNames,
    private readonly index: RabbitMqDeadLetterIndex,
    logger: Logger,
  ) {
    this.follower = new RabbitMqStreamFollower(names.deadLetterLog, RABBITMQ_DEAD_LETTER_TAIL_PREFETCH, (message, offset) => this.apply(message, offset), logger);
  }

  /** Starts following the log on `model` unless it already does. */
  follow(model: ChannelModel): Promise<void> {
    return this.follower.follow(model);
  }

  /** Stops following (the connection went away); waiters fail, the index and position are kept. */
  stop(reason: string): void {
    this.follower.stop(reason);
  }

  /** See RabbitMqStreamFollower.expect. */
  expect(token: string, timeoutMs: number): { seen: Promise<void>; cancel: () => void } {
    return this.follower.expect(token, timeoutMs);
  }

  private apply(message: ConsumeMessage, offset: number): void {
    const { headers } = message.properties;
    const messageId: unknown = message.properties.messageId;
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
  }
}
