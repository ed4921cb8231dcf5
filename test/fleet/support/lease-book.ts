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

/**
 * What the HTTP workers saw: every lease with its holder and every settle with its route and
 * answer. Read by the test at the kill (what the victim held) and at the end (how settles to a
 * dead holder were answered, whether an item came back after an ack answered 200).
 */
export class LeaseBook {
  readonly leases: LeaseRecord[] = [];
  readonly settles: SettleRecord[] = [];
  /** Requests answered with a status the protocol does not have for them. */
  readonly unexpected: string[] = [];
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

  /**
   * Keys handed out again after an ack of theirs was answered 200: an acknowledged settle must
   * end the item. `except` names keys that may legitimately exist twice (copies), checked apart.
   */
  leasedAfterAck200(except: ReadonlySet<string> = new Set()): string[] {
    const acked = new Map<string, number>();
    for (const record of this.settles) {
      const key = record.lease.item.payload.key;
      if (record.op === 'ack' && record.status === 200 && record.answeredAt !== undefined) acked.set(key, Math.min(acked.get(key) ?? Infinity, record.answeredAt));
    }
    const keys = this.leases.filter((lease) => lease.at > (acked.get(lease.item.payload.key) ?? Infinity)).map((lease) => lease.item.payload.key);
    return [...new Set(keys)].filter((key) => !except.has(key));
  }

  /**
   * Keys a delayed retry had put in the broker's delay ladder before `at` (performance.now()) and
   * that no worker had got back by then: a mover of any instance, the victim's included, may have
   * been moving them back to their queue at that moment.
   */
  inLadderAt(at: number): string[] {
    const keys = this.settles
      .filter((record) => record.op === 'retry' && record.status === 200 && record.sentAt < at)
      .filter((record) => !this.leases.some((lease) => lease.item.payload.key === record.lease.item.payload.key && lease.at > record.sentAt && lease.at < at))
      .map((record) => record.lease.item.payload.key);
    return [...new Set(keys)];
  }
}
