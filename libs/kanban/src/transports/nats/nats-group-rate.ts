import { JS_ERR, brokerCall, jsApiCode } from './nats-errors';
import type { NatsGroupClients } from './nats-group-limits';
import type { NatsNames } from './nats-names';
import { NATS_GROUP_RATE_CAS_ATTEMPTS, NATS_GROUP_RATE_CONTENDED_RETRY_MS, NATS_GROUP_RATE_LATENESS_CREDIT, NATS_GROUP_RATE_RECORD_MAX_AGE_MS } from './nats.constants';

/** A group's rate record: its sequence in the stream and the epoch ms its next token is due. */
interface RateRecord {
  seq: number;
  dueAt: number;
}

/**
 * Per-group rate limits shared by the fleet: GCRA with a burst of one. Each rate-limited group has
 * one record, the epoch ms from which its next item may enter a slot; a take reads it and writes
 * the next due time expecting the sequence it read (compare-and-set by the server), so instances
 * taking at once hand out one token each interval between them. Due times are compared with this
 * instance's clock: the fleet's clocks must agree (NTP) to well within one interval.
 */
export class NatsGroupRate {
  private declared?: Promise<void>;
  /**
   * The last record this instance read or wrote per group: a take starts from it instead of reading
   * the record first. A stale one (another instance took a token since) fails the compare-and-set
   * and is read again, so it saves a request without ever granting a token twice.
   */
  private readonly known = new Map<string, RateRecord>();

  constructor(
    private readonly clients: () => NatsGroupClients,
    private readonly names: NatsNames,
  ) {}

  /**
   * Takes the group's token if it is due.
   * @returns 0 when taken, else the ms until the next is due.
   * @throws BrokerUnavailableError
   */
  take(domain: string, group: string, ratePerSecond: number): Promise<number> {
    const intervalMs = 1_000 / ratePerSecond;
    const subject = this.names.groupRateSubject(domain, group);
    return brokerCall(`taking a rate token of group ${domain}/${group}`, async () => {
      await this.declare();
      let record = this.known.get(subject) ?? (await this.read(subject));
      for (let attempt = 0; attempt < NATS_GROUP_RATE_CAS_ATTEMPTS; attempt++) {
        const now = Date.now();
        if (record.dueAt > now) return Math.ceil(record.dueAt - now);
        const next = (now - record.dueAt <= intervalMs * NATS_GROUP_RATE_LATENESS_CREDIT ? record.dueAt : now) + intervalMs;
        try {
          const ack = await this.clients().js.publish(subject, String(next), { expect: { lastSubjectSequence: record.seq } });
          this.known.set(subject, { seq: ack.seq, dueAt: next });
          return 0;
        } catch (error) {
          if (jsApiCode(error) !== JS_ERR.wrongLastSequence) throw error;
          record = await this.read(subject);
        }
      }
      return NATS_GROUP_RATE_CONTENDED_RETRY_MS;
    });
  }

  /** The group's record as stored (sequence 0 and due at once when it has none), remembered for the next take. */
  private async read(subject: string): Promise<RateRecord> {
    const stored = await this.clients().jsm.streams.getMessage(this.names.groupRateStream, { last_by_subj: subject });
    const record = stored ? { seq: stored.seq, dueAt: Number(stored.string()) } : { seq: 0, dueAt: 0 };
    this.known.set(subject, record);
    return record;
  }

  clear(): void {
    this.declared = undefined;
    this.known.clear();
  }

  private declare(): Promise<void> {
    this.declared ??= this.clients()
      .topology.ensureGroupRate(NATS_GROUP_RATE_RECORD_MAX_AGE_MS)
      .catch((error: unknown) => {
        this.declared = undefined;
        throw error;
      });
    return this.declared;
  }
}
