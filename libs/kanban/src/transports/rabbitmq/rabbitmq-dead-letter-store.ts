import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, Message } from 'amqplib';
import { BrokerUnavailableError, DeadLetterNotFoundError } from '../../errors';
import type { DeadLetter, DeadLetterFilter } from '../../interfaces';
import type { TransportSettings } from '../../transport';
import { readDeadLetterRecord, recordFromBrokerDeadLetter, type DeadLetterRecord } from './rabbitmq-dead-letter-record';
import { asKanbanError } from './rabbitmq-amqp-errors';
import type { RabbitMqNames } from './rabbitmq-names';
import type { RabbitMqPublisher } from './rabbitmq-publisher';
import type { RabbitMqTopology } from './rabbitmq-topology';
import { RABBITMQ_DEAD_LETTER_SCAN_MAX, RABBITMQ_DEAD_LETTER_SCAN_TIMEOUT_MS, RABBITMQ_INTAKE_BATCH_MAX } from './rabbitmq.constants';

/** Listed when a filter gives no limit (DeadLetterFilter.limit). */
const DEFAULT_LIST_LIMIT = 100;
/** Gap between looks at the queue while records handed back become ready again. */
const RETURN_POLL_MS = 5;

interface Scanned {
  message: Message;
  deadLetter?: DeadLetter;
  /** Position in the queue: later means dead-lettered later. */
  position: number;
}

/**
 * Dead letters live in one quorum queue on the broker, one message per record, so they survive
 * any client and are shared by every process. A queue cannot be browsed in place, so reading is a
 * scan: consume every ready record without acknowledging it, answer from what arrived, acknowledge
 * only what a delete removes, and close the channel, which hands the rest back to the broker.
 * A scan costs O(records) and runs one at a time per process; while it runs, a scan in another
 * process sees only the records this one is not holding.
 */
export class RabbitMqDeadLetterStore {
  private model?: ChannelModel;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly names: RabbitMqNames,
    private readonly settings: TransportSettings,
    private readonly publisher: RabbitMqPublisher,
    private readonly topology: RabbitMqTopology,
    private readonly logger: Logger,
  ) {}

  attach(model: ChannelModel): void {
    this.model = model;
  }

  detach(): void {
    this.model = undefined;
  }

  /** Stores a record; resolves once the broker confirmed it. */
  async add(record: DeadLetterRecord): Promise<void> {
    const queue = this.names.deadLetterQueue;
    await this.publisher.publish({ exchange: '', routingKey: queue, queue }, record.body, { messageId: record.messageId, headers: record.headers });
  }

  /** Newest first; duplicates of one id (at-least-once moves) show once. */
  list(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    return this.scan((records) =>
      unique(records)
        .filter(({ deadLetter }) => (!filter.domain || deadLetter.domain === filter.domain) && (!filter.reason || deadLetter.reason === filter.reason))
        .sort((a, b) => b.deadLetter.deadLetteredAt - a.deadLetter.deadLetteredAt || b.position - a.position)
        .slice(0, limit)
        .map(({ deadLetter }) => deadLetter),
    );
  }

  /** @throws DeadLetterNotFoundError */
  get(id: string): Promise<DeadLetter> {
    return this.scan((records) => {
      const found = unique(records).find(({ deadLetter }) => deadLetter.id === id);
      if (!found) throw new DeadLetterNotFoundError(id);
      return found.deadLetter;
    });
  }

  /** Removes every copy of the record. @throws DeadLetterNotFoundError */
  delete(id: string): Promise<void> {
    return this.scan((records, ack) => {
      const copies = records.filter(({ message }) => message.properties.messageId === id);
      if (copies.length === 0) throw new DeadLetterNotFoundError(id);
      for (const { message } of copies) ack(message);
    });
  }

  /**
   * Turns what the broker dead-lettered (delivery limit reached after a consumer went away) into
   * records: publish the record with confirm, then acknowledge the intake message, so a crash in
   * between leaves a duplicate, never a loss.
   */
  async drainIntake(): Promise<DeadLetter[]> {
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

  private scan<T>(use: (records: Scanned[], ack: (message: Message) => void) => T): Promise<T> {
    const run = this.tail.then(async () => {
      const channel = await this.openChannel();
      let returned = 0;
      let closed = false;
      channel.once('close', () => (closed = true));
      try {
        const records = await this.readAll(channel).catch((error: unknown) => {
          throw asKanbanError(error, `reading ${this.names.deadLetterQueue}`);
        });
        if (closed) throw new BrokerUnavailableError('rabbitmq', `the channel reading ${this.names.deadLetterQueue} closed mid-scan`);
        // Counted before `use`, which may throw (a lookup that finds nothing) with every record still held.
        returned = records.length;
        return use(records, (message) => {
          channel.ack(message);
          returned--;
        });
      } finally {
        // Closing hands every record not acknowledged back to the queue.
        await channel.close().catch(() => undefined);
        await this.awaitReturned(returned);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The queue takes records back from a closed channel asynchronously; the next scan would miss
   * them, so a scan ends once the queue shows them ready again (bounded: another reader may hold some).
   */
  private async awaitReturned(count: number): Promise<void> {
    if (count === 0) return;
    const deadline = performance.now() + RABBITMQ_DEAD_LETTER_SCAN_TIMEOUT_MS;
    while (performance.now() < deadline) {
      const ready = await this.topology.readyCount(this.names.deadLetterQueue).catch(() => undefined);
      if (ready === undefined || ready >= count) return;
      await new Promise((resolve) => setTimeout(resolve, RETURN_POLL_MS));
    }
    this.logger.warn(`Dead-letter records handed back to ${this.names.deadLetterQueue} were not all ready again within ${RABBITMQ_DEAD_LETTER_SCAN_TIMEOUT_MS} ms`);
  }

  private async readAll(channel: Channel): Promise<Scanned[]> {
    const queue = this.names.deadLetterQueue;
    const ready = (await channel.checkQueue(queue)).messageCount;
    const target = Math.min(ready, RABBITMQ_DEAD_LETTER_SCAN_MAX);
    const records: Scanned[] = [];
    if (target === 0) return records;
    if (ready > target) this.logger.warn(`Dead-letter queue ${queue} holds ${ready} records; reading the first ${target} only`);
    // The prefetch equals what was ready, so the broker sends those records and nothing published since.
    await channel.prefetch(target);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.logger.warn(`Dead-letter scan of ${queue} received ${records.length} of ${target} records within ${RABBITMQ_DEAD_LETTER_SCAN_TIMEOUT_MS} ms (another process is reading them)`);
        resolve();
      }, RABBITMQ_DEAD_LETTER_SCAN_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      channel.once('close', done);
      channel
        .consume(queue, (message) => {
          if (!message) return done();
          records.push({ message, deadLetter: readDeadLetterRecord(message), position: records.length });
          if (records.length >= target) done();
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
    });
    return records;
  }

  private async openChannel(): Promise<Channel> {
    if (!this.model) throw new BrokerUnavailableError('rabbitmq', 'not connected');
    const channel = await this.model.createChannel().catch((error: unknown) => {
      throw asKanbanError(error, 'opening a dead-letter channel');
    });
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ dead-letter channel error: ${error.message}`));
    return channel;
  }
}

/** Records kanban wrote, first copy of each id only. */
function unique(records: Scanned[]): Array<Scanned & { deadLetter: DeadLetter }> {
  const seen = new Set<string>();
  const out: Array<Scanned & { deadLetter: DeadLetter }> = [];
  for (const record of records) {
    if (!record.deadLetter || seen.has(record.deadLetter.id)) continue;
    seen.add(record.deadLetter.id);
    out.push(record as Scanned & { deadLetter: DeadLetter });
  }
  return out;
}
