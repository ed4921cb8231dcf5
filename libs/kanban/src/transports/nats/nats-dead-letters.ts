import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DeadLetterNotFoundError } from '../../errors';
import type { DeadLetter, DeadLetterFilter } from '../../interfaces/dead-letter.interface';
import { NATS_DEAD_LETTER_SCAN_LIMIT } from './nats.constants';
import { brokerError, jsApiCode, JS_ERR } from './nats-errors';
import type { NatsNames } from './nats-names';

const DEFAULT_LIST_LIMIT = 100;

/**
 * Dead letters in one limits-retention stream, one subject per item
 * (`{prefix}.dlq.{domain}.{id}`), so they survive restarts of the app and of nats-server and can
 * be listed by domain, fetched and purged by id.
 */
export class NatsDeadLetters {
  constructor(
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

  /** Newest first. Reads at most NATS_DEAD_LETTER_SCAN_LIMIT records, the most recent items' first. */
  async list(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    const subjects = (await this.subjects(this.names.deadLetterFilter(filter.domain))).sort(byItemIdDescending).slice(0, NATS_DEAD_LETTER_SCAN_LIMIT);
    const records: DeadLetter[] = [];
    for (const subject of subjects) {
      const record = await this.read(subject);
      if (record && (!filter.reason || record.reason === filter.reason)) records.push(record);
    }
    return records.sort((a, b) => b.deadLetteredAt - a.deadLetteredAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  }

  /** @throws DeadLetterNotFoundError */
  async get(id: string): Promise<DeadLetter> {
    const [subject] = await this.subjects(this.names.deadLetterFilter(undefined, id));
    const record = subject ? await this.read(subject) : undefined;
    if (!record) throw new DeadLetterNotFoundError(id);
    return record;
  }

  /** @throws DeadLetterNotFoundError */
  async delete(id: string): Promise<void> {
    const subjects = await this.subjects(this.names.deadLetterFilter(undefined, id));
    if (subjects.length === 0) throw new DeadLetterNotFoundError(id);
    try {
      for (const subject of subjects) await this.jsm.streams.purge(this.names.deadLetterStream, { filter: subject });
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

  private async read(subject: string): Promise<DeadLetter | undefined> {
    try {
      const message = await this.jsm.streams.getMessage(this.names.deadLetterStream, { last_by_subj: subject });
      return message ? (message.json<DeadLetter>() as DeadLetter) : undefined;
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.noMessageFound) return undefined;
      throw brokerError(error, `reading dead letter ${subject}`);
    }
  }
}

/** Item ids are ULIDs (time-sortable): the last subject token orders the most recent items first. */
function byItemIdDescending(a: string, b: string): number {
  const idA = a.slice(a.lastIndexOf('.') + 1);
  const idB = b.slice(b.lastIndexOf('.') + 1);
  return idA < idB ? 1 : idA > idB ? -1 : 0;
}
