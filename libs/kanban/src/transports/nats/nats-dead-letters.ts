import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy } from './jetstream-client';
import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeadLetterNotFoundError } from '../../errors';
import { DEAD_LETTER_DEFAULT_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterPage } from '../../interfaces/dead-letter.interface';
import { cursorAt, positionAfter } from '../../transport/dead-letter-cursor';
import { NATS_DEAD_LETTER_READ_BATCH, NATS_DEAD_LETTER_READER_INACTIVE_MS } from './nats.constants';
import { brokerError, jsApiCode, JS_ERR } from './nats-errors';
import { parseAckSubject } from './nats-lease';
import type { NatsNames } from './nats-names';
import { pullReady } from './nats-pull';

/**
 * Dead letters in one limits-retention stream, one subject per item
 * (`{prefix}.dlq.{domain}.{id}`), so they survive restarts of the app and of nats-server and can
 * be listed by domain, fetched and purged by id. A listing reads the stream in sequence order
 * (oldest first) from the cursor on, through a consumer of its own that acknowledges nothing, so
 * any number of instances list, fetch and purge at once without touching each other.
 */
export class NatsDeadLetters {
  private readonly logger = new Logger(NatsDeadLetters.name);

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
    private readonly publishTimeoutMs: number,
  ) {}

  /**
   * Stores the record and resolves on its PubAck. `dedupId` (derived from the source message)
   * makes a repeat after a crash between store and term land once.
   */
  async add(record: DeadLetter, dedupId: string): Promise<void> {
    try {
      await this.js.publish(this.names.deadLetterSubject(record.domain, record.id), JSON.stringify(record), {
        msgID: dedupId,
        timeout: this.publishTimeoutMs,
        expect: { streamName: this.names.deadLetterStream },
      });
    } catch (error) {
      throw brokerError(error, `storing dead letter ${record.id}`);
    }
  }

  /**
   * Oldest first by stream sequence; the cursor is the sequence of the page's last letter. A reason
   * filter is applied while reading, so a page may read past many letters of other reasons.
   * @throws KanbanValidationError for a bad cursor
   */
  async list(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    const limit = filter.limit ?? DEAD_LETTER_DEFAULT_LIMIT;
    const after = positionAfter(filter.cursor);
    const stream = this.names.deadLetterStream;
    // Unfiltered, the reader takes the whole stream: a subject filter makes the server count the
    // reader's pending messages subject by subject, which costs O(letters) per page.
    const reader = await this.openReader(filter.domain === undefined ? undefined : this.names.deadLetterFilter(filter.domain), after + 1);
    const items: DeadLetter[] = [];
    try {
      for (;;) {
        const { messages: batch } = await pullReady(this.nc, stream, reader, filter.reason ? NATS_DEAD_LETTER_READ_BATCH : limit - items.length);
        for (const message of batch) {
          const record = message.json<DeadLetter>();
          if (filter.reason && record.reason !== filter.reason) continue;
          items.push(record);
          if (items.length === limit) return { items, nextCursor: cursorAt(this.sequenceOf(message.reply)) };
        }
        if (batch.length === 0) return { items };
      }
    } catch (error) {
      throw brokerError(error, 'reading the dead-letter stream');
    } finally {
      await this.jsm.consumers.delete(stream, reader).catch((error: unknown) => {
        // Not fatal to a listing that succeeded: the server removes an idle reader by itself.
        this.logger.warn(`Dead-letter reader ${reader} not deleted (the server drops it after ${NATS_DEAD_LETTER_READER_INACTIVE_MS} ms idle): ${(error as Error).message}`);
      });
    }
  }

  /** @throws DeadLetterNotFoundError */
  async get(id: string): Promise<DeadLetter> {
    const [subject] = await this.subjects(this.names.deadLetterFilter(undefined, id));
    const record = subject ? await this.read(subject) : undefined;
    if (!record) throw new DeadLetterNotFoundError(id);
    return record;
  }

  /**
   * Deletes every message of the letter's subject (an at-least-once move may have stored two) by
   * sequence: a purge by subject would move the readers of concurrent listings past the end of the
   * stream (nats-server 2.9), ending those listings early.
   * @throws DeadLetterNotFoundError
   */
  async delete(id: string): Promise<void> {
    const subjects = await this.subjects(this.names.deadLetterFilter(undefined, id));
    if (subjects.length === 0) throw new DeadLetterNotFoundError(id);
    try {
      for (const subject of subjects) {
        for (let message = await this.last(subject); message; message = await this.last(subject)) {
          await this.jsm.streams.deleteMessage(this.names.deadLetterStream, message.seq, false).catch((error: unknown) => {
            // Deleted by a concurrent purge of the same letter.
            if (jsApiCode(error) !== JS_ERR.noMessageFound && jsApiCode(error) !== JS_ERR.sequenceNotFound) throw error;
          });
        }
      }
    } catch (error) {
      throw brokerError(error, `deleting dead letter ${id}`);
    }
  }

  /** Subjects holding messages that match `filter`, from the stream's subject index (no consumer needed). */
  private async subjects(filter: string): Promise<string[]> {
    try {
      const info = await this.jsm.streams.info(this.names.deadLetterStream, { subjects_filter: filter });
      return Object.keys(info.state.subjects ?? {});
    } catch (error) {
      throw brokerError(error, 'reading the dead-letter stream');
    }
  }

  /** An ephemeral consumer that reads from `startSeq` on and acknowledges nothing. */
  private async openReader(subject: string | undefined, startSeq: number): Promise<string> {
    try {
      const info = await this.jsm.consumers.add(this.names.deadLetterStream, {
        ack_policy: AckPolicy.None,
        ...(subject === undefined ? {} : { filter_subject: subject }),
        mem_storage: true,
        inactive_threshold: NATS_DEAD_LETTER_READER_INACTIVE_MS * 1_000_000,
        ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
      });
      return info.name;
    } catch (error) {
      throw brokerError(error, 'opening a dead-letter reader');
    }
  }

  private sequenceOf(reply: string | undefined): number {
    const info = reply ? parseAckSubject(reply) : undefined;
    if (!info) throw new Error(`a dead-letter read came without its stream sequence (reply ${reply ?? 'none'})`);
    return info.streamSeq;
  }

  private async read(subject: string): Promise<DeadLetter | undefined> {
    try {
      return (await this.last(subject))?.json<DeadLetter>();
    } catch (error) {
      throw brokerError(error, `reading dead letter ${subject}`);
    }
  }

  private async last(subject: string): Promise<StoredMsg | undefined> {
    try {
      return (await this.jsm.streams.getMessage(this.names.deadLetterStream, { last_by_subj: subject })) ?? undefined;
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.noMessageFound) return undefined;
      throw error;
    }
  }
}
