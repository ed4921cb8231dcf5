import { JS_ERR, brokerCall, jsApiCode } from './nats-errors';
import type { NatsGroupClients } from './nats-group-limits';
import type { NatsNames } from './nats-names';
import { NATS_GROUP_RATE_CAS_ATTEMPTS, NATS_GROUP_RATE_CONTENDED_RETRY_MS, NATS_GROUP_RATE_LATENESS_CREDIT, NATS_GROUP_RATE_RECORD_MAX_AGE_MS } from './nats.constants';

/**
 * Per-group rate limits shared by the fleet: GCRA with a burst of one. Each rate-limited group has
 * one record, the epoch ms from which its next item may enter a slot; a take reads it and writes
 * the next due time expecting the sequence it read (compare-and-set by the server), so instances
 * taking at once hand out one token each interval between them. Due times are compared with this
 * instance's clock: the fleet's clocks must agree (NTP) to well within one interval.
 */
export class NatsGroupRate {
  private declared?: Promise<void>;

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
      for (let attempt = 0; attempt < NATS_GROUP_RATE_CAS_ATTEMPTS; attempt++) {
        const { js, jsm } = this.clients();
        const record = await jsm.streams.getMessage(this.names.groupRateStream, { last_by_subj: subject });
        const dueAt = record ? Number(record.string()) : 0;
        const now = Date.now();
        if (dueAt > now) return Math.ceil(dueAt - now);
        const next = (now - dueAt <= intervalMs * NATS_GROUP_RATE_LATENESS_CREDIT ? dueAt : now) + intervalMs;
        try {
          await js.publish(subject, String(next), { expect: { lastSubjectSequence: record?.seq ?? 0 } });
          return 0;
        } catch (error) {
          if (jsApiCode(error) !== JS_ERR.wrongLastSequence) throw error;
        }
      }
      return NATS_GROUP_RATE_CONTENDED_RETRY_MS;
    });
  }

  clear(): void {
    this.declared = undefined;
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
