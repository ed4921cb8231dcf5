import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { nanos } from './nats-client';
import { newItemId } from '../../codec/item-id';
import type { LeaseLeadership } from '../../transport/lease-leadership.interface';
import { jsApiCode } from './nats-errors';
import { ensureLastValueStream } from './nats-schedule-stream';
import type { NatsScheduleClients } from './nats-schedule-store';
import { NATS_LEADER_MIN_RETRY_MS, NATS_LEADER_RENEWALS_PER_LEASE, NATS_LEADER_SAFETY_MARGIN_MS } from './nats.constants';

/** JetStream's answer to a publish whose expected last subject sequence is not the stream's. */
const WRONG_LAST_SEQUENCE = 10071;

/**
 * The leadership lease named `lease` ('schedule', 'coordinator') as a NATS KV-style lease: one
 * record on `{root}.{lease}-leader` in a stream `{prefix}_{LEASE}_LEADER` whose `max_age` is the
 * lease, so JetStream itself expires a dead leader's record.
 * Taking the lease is a publish expecting no record (last subject sequence 0), renewing it a
 * publish expecting our own record's sequence: compare-and-set done by the server. A leader
 * counts itself leader until `leaseMs - margin` after its last successful write, so it steps
 * down before the record can expire and another instance take over.
 */
export class NatsLeaseLeadership implements LeaseLeadership {
  private readonly logger: Logger;
  /** 'Schedule leadership', for log lines. */
  private readonly label: string;
  private readonly id = newItemId();
  private readonly stream: string;
  private readonly subject: string;
  private readonly renewMs: number;
  private sequence = 0;
  private leaderUntil = 0;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private ready?: Promise<void>;
  private closed = false;
  /** Only the first failed round of a streak is logged, not one a second while NATS is away. */
  private failing = false;
  epoch = 0;

  constructor(
    private readonly clients: () => NatsScheduleClients,
    prefix: string,
    lease: string,
    private readonly replicas: number,
    private readonly leaseMs: number,
  ) {
    const title = `${lease[0].toUpperCase()}${lease.slice(1)}`;
    this.logger = new Logger(`${title}Leadership`);
    this.label = `${title} leadership`;
    this.stream = `${prefix}_${lease.toUpperCase()}_LEADER`;
    this.subject = `${prefix.toLowerCase()}.${lease}-leader`;
    this.renewMs = Math.max(Math.floor(leaseMs / NATS_LEADER_RENEWALS_PER_LEASE), NATS_LEADER_MIN_RETRY_MS);
  }

  start(): void {
    this.schedule(0);
  }

  isLeader(): boolean {
    return performance.now() < this.leaderUntil;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
    if (!this.isLeader()) return;
    this.leaderUntil = 0;
    try {
      // Handing over at once instead of after the lease: the next leader need not wait it out.
      await this.clients().jsm.streams.purge(this.stream, { filter: this.subject, seq: this.sequence + 1 });
    } catch (error) {
      this.logger.warn(`${this.label} not released (it lapses after ${this.leaseMs} ms): ${(error as Error).message}`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.round = this.compete().then((next) => this.schedule(next));
    }, delayMs);
  }

  /** One attempt to take or keep the lease; resolves to the delay before the next. */
  private async compete(): Promise<number> {
    const started = performance.now();
    try {
      const { js, jsm } = this.clients();
      this.ready ??= ensureLastValueStream(jsm, { name: this.stream, subjects: [this.subject], num_replicas: this.replicas, max_age: nanos(this.leaseMs), duplicate_window: nanos(this.leaseMs) });
      await this.ready;
      const ack = await js.publish(this.subject, this.id, { expect: { lastSubjectSequence: this.isLeader() ? this.sequence : 0 } });
      if (!this.isLeader()) {
        this.epoch++;
        this.logger.log(`${this.label} taken by ${this.id}`);
      }
      this.sequence = ack.seq;
      this.leaderUntil = started + this.leaseMs - NATS_LEADER_SAFETY_MARGIN_MS;
      this.failing = false;
      return this.renewMs;
    } catch (error) {
      if (jsApiCode(error) !== WRONG_LAST_SEQUENCE) {
        this.ready = undefined;
        if (!this.failing) this.logger.warn(`${this.label} rounds failing (a leader steps down when its lease runs out): ${(error as Error).message}`);
        this.failing = true;
        return this.renewMs;
      }
      if (this.isLeader()) this.logger.warn(`${this.label} lost by ${this.id}: another instance holds the lease`);
      this.leaderUntil = 0;
      this.failing = false;
      return this.untilLeaseLapses();
    }
  }

  /** Wakes just after the holder's record expires, so a dead leader is replaced within the lease. */
  private async untilLeaseLapses(): Promise<number> {
    try {
      const record = await this.clients().jsm.streams.getMessage(this.stream, { last_by_subj: this.subject });
      if (!record) return NATS_LEADER_MIN_RETRY_MS;
      const lapsesIn = record.time.getTime() + this.leaseMs - Date.now() + NATS_LEADER_SAFETY_MARGIN_MS;
      return Math.min(Math.max(lapsesIn, NATS_LEADER_MIN_RETRY_MS), this.renewMs);
    } catch (error) {
      this.logger.warn(`${this.label} record unreadable: ${(error as Error).message}`);
      return this.renewMs;
    }
  }
}
