import { performance } from 'node:perf_hooks';
import type { FleetInstance } from './fleet-instance';

/** One item as `POST /work/pull` returns it (the fields the workers use). */
export interface PulledItem {
  id: string;
  domain: string;
  payload: { key: string };
  attempts: number;
  lease: string;
}

export type SettleOp = 'ack' | 'retry' | 'extend';

/** A lease the workers got, and the instance that handed it out (its holder). */
export interface LeaseRecord {
  item: PulledItem;
  holder: FleetInstance;
  /** performance.now() when the worker got it. */
  at: number;
  /** An ack or retry of it was answered 200: the item left this delivery. */
  settled: boolean;
}

/** One settle request: to which instance, and what it answered (`unreached`: the instance could not be reached). */
export interface SettleRecord {
  op: SettleOp;
  lease: LeaseRecord;
  via: FleetInstance;
  /** performance.now() values. */
  sentAt: number;
  answeredAt?: number;
  status?: number;
  code?: string;
  unreached?: boolean;
}

/** One processing by a worker, and the status its ack was answered with. */
export interface ProcessingRecord {
  attempts: number;
  ackStatus?: number;
}

/**
 * What the HTTP workers saw: every lease with its holder, every settle with its route and answer,
 * every processing with its ack's answer. Read by the test at the kill (what the victim held) and
 * at the end (how settles to a dead holder were answered, whether a 200 was followed by a repeat).
 */
export class LeaseBook {
  readonly leases: LeaseRecord[] = [];
  readonly settles: SettleRecord[] = [];
  /** Requests answered with a status the protocol does not have for them. */
  readonly unexpected: string[] = [];
  private readonly processings = new Map<string, ProcessingRecord[]>();
  /** Epoch ms of the last pull that handed out items. */
  private lastDelivery = 0;

  issue(item: PulledItem, holder: FleetInstance): LeaseRecord {
    const lease = { item, holder, at: performance.now(), settled: false };
    this.leases.push(lease);
    this.lastDelivery = Date.now();
    return lease;
  }

  get lastDeliveryAt(): number {
    return this.lastDelivery;
  }

  sent(lease: LeaseRecord, op: SettleOp, via: FleetInstance): SettleRecord {
    const record: SettleRecord = { op, lease, via, sentAt: performance.now() };
    this.settles.push(record);
    return record;
  }

  answered(record: SettleRecord, status: number, code: string | undefined): void {
    Object.assign(record, { answeredAt: performance.now(), status, code });
    if (status === 200 && record.op !== 'extend') record.lease.settled = true;
  }

  unreached(record: SettleRecord): void {
    Object.assign(record, { answeredAt: performance.now(), unreached: true });
  }

  process(key: string, attempts: number): ProcessingRecord {
    const record: ProcessingRecord = { attempts };
    const seen = this.processings.get(key);
    if (seen) seen.push(record);
    else this.processings.set(key, [record]);
    return record;
  }

  /** Leases `holder` handed out that no ack or retry has settled yet. */
  unsettledBy(holder: FleetInstance): LeaseRecord[] {
    return this.leases.filter((lease) => lease.holder === holder && !lease.settled);
  }

  /** Of those, the ones a worker is still working on: no settle sent for them yet. */
  workedOnFrom(holder: FleetInstance): LeaseRecord[] {
    const withSettle = new Set(this.settles.map((record) => record.lease));
    return this.unsettledBy(holder).filter((lease) => !withSettle.has(lease));
  }

  /** Settles of `holder`'s leases sent to another instance (relayed to `holder`) and not answered yet. */
  relaysInFlightTo(holder: FleetInstance): SettleRecord[] {
    return this.settles.filter((record) => record.lease.holder === holder && record.via !== holder && record.answeredAt === undefined);
  }

  /** Keys whose ack was answered 200 and that were processed again afterwards. */
  processedAfterAck200(): string[] {
    return [...this.processings].filter(([, records]) => records.slice(0, -1).some((record) => record.ackStatus === 200)).map(([key]) => key);
  }

  /** Keys whose ack was answered 200 more than once. */
  ackedTwice(): string[] {
    return [...this.processings].filter(([, records]) => records.filter((record) => record.ackStatus === 200).length > 1).map(([key]) => key);
  }
}
