import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError, DeadLetterNotFoundError, TopologyConflictError } from '../../errors';
import { DEAD_LETTER_DEFAULT_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterPage, type PublishReceipt, type WorkItem } from '../../interfaces';
import type { TransportSettings } from '../../transport';
import { cursorAt, positionAfter } from '../../transport/dead-letter-cursor';
import { AMQP_NOT_FOUND, amqpReplyCode, asKanbanError } from './rabbitmq-amqp-errors';
import { RabbitMqDeadLetterIndex, type IndexedLetter, type ReplayClaim } from './rabbitmq-dead-letter-index';
import { copyDeadLetterRecord, readDeadLetterRecord, recordFromBrokerDeadLetter, type DeadLetterRecord } from './rabbitmq-dead-letter-record';
import { RabbitMqDeadLetterTail } from './rabbitmq-dead-letter-tail';
import { numberHeader } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import {
  RABBITMQ_DEAD_LETTER_READ_GAP,
  RABBITMQ_DEAD_LETTER_READ_PREFETCH,
  RABBITMQ_DEAD_LETTER_READ_TIMEOUT_MS,
  RABBITMQ_DEAD_LETTER_SYNC_TIMEOUT_MS,
  RABBITMQ_HEADERS,
  RABBITMQ_INTAKE_BATCH_MAX,
  RABBITMQ_LOG_RECORDS,
  RABBITMQ_REPLAY_CLAIM_MS,
  RABBITMQ_REPLAY_POLL_MS,
} from './rabbitmq.constants';

const EMPTY = Buffer.alloc(0);

/**
 * Dead letters live in a stream (an append-only log) on the broker: letter records, and removal
 * and claim records that name a letter by id. Every instance reads the whole log once and then
 * follows it (RabbitMqDeadLetterTail), keeping an index of the live letters in log order
 * (RabbitMqDeadLetterIndex) but not their bytes; a page or a get reads the bytes back from the
 * log at the letters' offsets. Reading a stream consumes nothing, so any number of instances list,
 * fetch, replay and purge at once. A read first appends a sync record and waits until its reader
 * reaches it, so it sees everything any instance appended before the read began.
 *
 * The log only grows: a removed letter's bytes stay in it (see the transport README).
 */
export class RabbitMqDeadLetterStore {
  private model?: ChannelModel;
  /** Set once the legacy queue was found empty or absent on this connection. */
  private legacyMoved = false;
  /** The log's declaration on this connection; dropped when it fails, so the next operation declares again. */
  private logDeclared?: Promise<void>;
  private readonly index = new RabbitMqDeadLetterIndex();
  private readonly tail: RabbitMqDeadLetterTail;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly settings: TransportSettings,
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
    private readonly declareLog: () => Promise<void>,
  ) {
    this.tail = new RabbitMqDeadLetterTail(names, this.index, logger);
  }

  attach(model: ChannelModel): void {
    this.model = model;
    this.legacyMoved = false;
    this.logDeclared = undefined;
  }

  detach(): void {
    this.model = undefined;
    this.logDeclared = undefined;
    this.tail.stop('the connection to RabbitMQ was lost');
  }

  /** Appends a letter; resolves once the broker confirmed it. */
  async add(record: DeadLetterRecord): Promise<void> {
    await this.append(record.body, record.messageId, record.headers);
  }

  /**
   * Oldest first in log order; the cursor is the log offset of the page's last letter. Duplicates
   * of one id (at-least-once moves) show once, at the first copy.
   * @throws KanbanValidationError for a bad cursor
   */
  async list(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    const limit = filter.limit ?? DEAD_LETTER_DEFAULT_LIMIT;
    const after = positionAfter(filter.cursor);
    await this.sync();
    const entries = this.index.page(after, limit, (entry) => (!filter.domain || entry.domain === filter.domain) && (!filter.reason || entry.reason === filter.reason));
    const items = await this.readLetters(entries);
    return entries.length === limit ? { items, nextCursor: cursorAt(entries[entries.length - 1].offset) } : { items };
  }

  /** @throws DeadLetterNotFoundError */
  async get(id: string): Promise<DeadLetter> {
    const [letter] = await this.readLetters([await this.find(id)]);
    return letter;
  }

  /** Removes every copy of the letter; resolves once this instance's index shows it gone. @throws DeadLetterNotFoundError */
  async delete(id: string): Promise<void> {
    await this.find(id);
    await this.appendAndAwait(id, { [RABBITMQ_HEADERS.record]: RABBITMQ_LOG_RECORDS.removed });
  }

  /**
   * Replays through a claim in the log, so concurrent replays on any instances publish one item:
   * each appends a claim naming the item it would publish; the first claim in log order wins (all
   * instances read the same order). The winner publishes, then removes the letter. A loser waits
   * for that removal and answers with the winner's item id (`duplicate: true`); if the winner's
   * claim lapses first (its replay died), the loser claims again.
   * @throws DeadLetterNotFoundError
   */
  async replay(id: string, rebuild: (letter: DeadLetter) => Promise<WorkItem>, publish: (item: WorkItem) => Promise<PublishReceipt>): Promise<PublishReceipt> {
    for (;;) {
      const item = await rebuild(await this.get(id));
      const mine: ReplayClaim = { token: randomUUID(), itemId: item.id, claimedAt: Date.now() };
      await this.appendAndAwait(id, { [RABBITMQ_HEADERS.record]: RABBITMQ_LOG_RECORDS.claim, [RABBITMQ_HEADERS.claimItem]: mine.itemId, [RABBITMQ_HEADERS.claimedAt]: mine.claimedAt }, mine.token);
      const winner = this.index.get(id)?.claim;
      if (!winner) throw new DeadLetterNotFoundError(id);
      if (winner.token === mine.token) {
        const receipt = await publish(item);
        await this.delete(id).catch((error: unknown) => {
          if (!(error instanceof DeadLetterNotFoundError)) throw error;
        });
        return receipt;
      }
      if (await this.removedBeforeLapse(id, winner)) return { id: winner.itemId, broker: 'rabbitmq', duplicate: true };
    }
  }

  /**
   * Turns what the broker dead-lettered (delivery limit reached after a consumer went away) into
   * letters: append the letter with confirm, then acknowledge the intake message, so a crash in
   * between leaves a duplicate, never a loss.
   */
  async drainIntake(): Promise<DeadLetter[]> {
    await this.moveLegacyLetters();
    const channel = await this.openChannel();
    const moved: DeadLetter[] = [];
    try {
      while (moved.length < RABBITMQ_INTAKE_BATCH_MAX) {
        const message = await channel.get(this.names.intakeQueue, { noAck: false }).catch((error: unknown) => {
          throw asKanbanError(error, `reading ${this.names.intakeQueue}`);
        });
        if (!message) break;
        const record = recordFromBrokerDeadLetter(message, this.names, this.settings.maxAttempts);
        await this.add(record);
        channel.ack(message);
        moved.push(record.deadLetter);
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
    return moved;
  }

  /**
   * Moves the letters an earlier version left in its quorum queue into the log (append with
   * confirm, then ack: at-least-once, like every move), so an upgrade loses none. They are letters
   * already, so they are not reported as newly dead-lettered.
   */
  private async moveLegacyLetters(): Promise<void> {
    if (this.legacyMoved) return;
    const queue = this.names.legacyDeadLetterQueue;
    const channel = await this.openChannel();
    let moved = 0;
    try {
      for (;;) {
        const message = await channel.get(queue, { noAck: false });
        if (!message) break;
        const record = copyDeadLetterRecord(message);
        if (record) await this.add(record);
        else {
          // Bytes kanban did not write: kept in the log (never listed) rather than dropped.
          await this.append(message.content, randomUUID(), {});
          this.logger.warn(`A message of ${queue} that is not a kanban dead letter was moved to ${this.names.deadLetterLog} unlisted`);
        }
        channel.ack(message);
        moved++;
      }
      this.legacyMoved = true;
    } catch (error) {
      if (amqpReplyCode(error) !== AMQP_NOT_FOUND) throw asKanbanError(error, `moving the dead letters of ${queue}`);
      this.legacyMoved = true;
    } finally {
      await channel.close().catch(() => undefined);
    }
    if (moved > 0) this.logger.log(`Moved ${moved} dead letter(s) from ${queue} to ${this.names.deadLetterLog}; ${queue} is empty and may be deleted`);
  }

  /** The live entry for `id`, looking again after a sync when this instance has not read it yet. @throws DeadLetterNotFoundError */
  private async find(id: string): Promise<IndexedLetter> {
    const known = this.index.get(id);
    if (known) return known;
    await this.sync();
    const entry = this.index.get(id);
    if (!entry) throw new DeadLetterNotFoundError(id);
    return entry;
  }

  /** Waits until this instance's index holds everything appended to the log before now. */
  private async sync(): Promise<void> {
    const token = randomUUID();
    await this.appendAndAwait(token, { [RABBITMQ_HEADERS.record]: RABBITMQ_LOG_RECORDS.sync }, token);
  }

  /**
   * Declares the log as the connection opens. A log declared with other arguments stops the
   * connection (TopologyConflictError); a log that does not answer yet (RabbitMQ 3.10 can take long
   * to bring a stream back after a kill -9) is declared again on first use, and meanwhile only
   * dead-letter operations fail.
   */
  async prepare(): Promise<void> {
    try {
      await this.ensureLog();
    } catch (error) {
      if (error instanceof TopologyConflictError) throw error;
      this.logger.warn(`RabbitMQ dead-letter log ${this.names.deadLetterLog} does not answer yet (${(error as Error).message}): work goes on, dead-letter operations fail until it does`);
    }
  }

  /** Declares the log once per connection before its first use. */
  private async ensureLog(): Promise<void> {
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected');
    this.logDeclared ??= this.declareLog().catch((error: unknown) => {
      this.logDeclared = undefined;
      throw error;
    });
    await this.logDeclared;
  }

  private async appendAndAwait(messageId: string, headers: Record<string, unknown>, token: string = randomUUID()): Promise<void> {
    await this.ensureLog();
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected');
    await this.tail.follow(this.model);
    const { seen, cancel } = this.tail.expect(token, RABBITMQ_DEAD_LETTER_SYNC_TIMEOUT_MS);
    try {
      await this.append(EMPTY, messageId, { ...headers, [RABBITMQ_HEADERS.token]: token });
    } catch (error) {
      cancel();
      throw error;
    }
    await seen;
  }

  private async append(body: Buffer, messageId: string, headers: Record<string, unknown>): Promise<void> {
    await this.ensureLog();
    const log = this.names.deadLetterLog;
    await this.publisher.publish({ exchange: '', routingKey: log, queue: log }, body, { messageId, headers });
  }

  /** True once the letter is gone; false when the winning claim lapsed with the letter still there. */
  private async removedBeforeLapse(id: string, winner: ReplayClaim): Promise<boolean> {
    for (;;) {
      const entry = this.index.get(id);
      if (!entry) return true;
      if (entry.claim !== winner || Date.now() >= winner.claimedAt + RABBITMQ_REPLAY_CLAIM_MS) return false;
      await new Promise((resolve) => setTimeout(resolve, RABBITMQ_REPLAY_POLL_MS));
    }
  }

  /** The letters at the entries' offsets, in the entries' order; entries close together are read in one pass. */
  private async readLetters(entries: IndexedLetter[]): Promise<DeadLetter[]> {
    if (entries.length === 0) return [];
    const byOffset = new Map<number, DeadLetter>();
    const channel = await this.openChannel();
    try {
      let start = 0;
      for (let i = 1; i <= entries.length; i++) {
        if (i < entries.length && entries[i].offset - entries[i - 1].offset <= RABBITMQ_DEAD_LETTER_READ_GAP) continue;
        const wanted = new Set(entries.slice(start, i).map((entry) => entry.offset));
        await this.readRun(channel, entries[start].offset, entries[i - 1].offset, (offset, message) => {
          const letter = wanted.has(offset) ? readDeadLetterRecord(message) : undefined;
          if (letter) byOffset.set(offset, letter);
        });
        start = i;
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
    return entries.map((entry) => {
      const letter = byOffset.get(entry.offset);
      if (!letter) throw new BrokerUnavailableError('rabbitmq', `dead letter ${entry.id} was not found at offset ${entry.offset} of ${this.names.deadLetterLog}`);
      return letter;
    });
  }

  /** Reads the log from offset `first` through `last` (a stream read consumes nothing). */
  private async readRun(channel: Channel, first: number, last: number, use: (offset: number, message: ConsumeMessage) => void): Promise<void> {
    await channel.prefetch(RABBITMQ_DEAD_LETTER_READ_PREFETCH);
    let consumerTag: string | undefined;
    let unacked = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerUnavailableError('rabbitmq', `reading ${this.names.deadLetterLog} from offset ${first} took over ${RABBITMQ_DEAD_LETTER_READ_TIMEOUT_MS} ms`)),
        RABBITMQ_DEAD_LETTER_READ_TIMEOUT_MS,
      );
      const closed = (): void => finish(new BrokerUnavailableError('rabbitmq', `the channel reading ${this.names.deadLetterLog} closed`));
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        channel.removeListener('close', closed);
        if (error) reject(error);
        else resolve();
      };
      channel.once('close', closed);
      channel
        .consume(
          this.names.deadLetterLog,
          (message) => {
            if (!message) return finish(new BrokerUnavailableError('rabbitmq', `the broker cancelled a read of ${this.names.deadLetterLog}`));
            // A stream read consumes nothing: acks only return credit, so they go out in batches.
            if (++unacked >= RABBITMQ_DEAD_LETTER_READ_PREFETCH / 2) {
              channel.ack(message, true);
              unacked = 0;
            }
            const offset = numberHeader(message.properties.headers, 'x-stream-offset');
            if (offset === undefined || offset < first) return;
            use(offset, message);
            if (offset >= last) finish();
          },
          { noAck: false, arguments: { 'x-stream-offset': first } },
        )
        .then(({ consumerTag: tag }) => (consumerTag = tag))
        .catch((error: unknown) => finish(asKanbanError(error, `reading ${this.names.deadLetterLog}`)));
    });
    if (consumerTag) await channel.cancel(consumerTag);
  }

  private async openChannel(): Promise<Channel> {
    await this.ensureLog();
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected');
    const channel = await this.model.createChannel().catch((error: unknown) => {
      throw asKanbanError(error, 'opening a dead-letter channel');
    });
    // A missing queue also rejects the operation that met it, whose caller decides (an absent legacy queue is the normal case).
    channel.on('error', (error: Error) => {
      if (amqpReplyCode(error) !== AMQP_NOT_FOUND) this.logger.warn(`RabbitMQ dead-letter channel error: ${error.message}`);
    });
    return channel;
  }
}
