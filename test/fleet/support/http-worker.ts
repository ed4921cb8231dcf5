import { setTimeout as sleep } from 'node:timers/promises';
import { between } from '../../chaos/support/seeded-random';
import type { Ledger } from '../../ledger/ledger';
import { post, type Fleet, type HttpAnswer } from './fleet-http';
import type { FleetInstance } from './fleet-instance';
import type { LeaseBook, LeaseRecord, PulledItem, SettleOp } from './lease-book';

/** How a worker works; times are its simulated work per item, not waits of the test. */
export interface WorkerPlan {
  domain: string;
  pullMax: number;
  pullWaitMs: number;
  workMinMs: number;
  workMaxMs: number;
  /** Share of first attempts handed back with a retry instead of processed. */
  retryShare: number;
  retryDelayMs: number;
  /** Share of items whose lease is extended before they are processed. */
  extendShare: number;
}

/** Instances a settle tries before the worker gives up on it (the item then comes back after its lease). */
const MAX_SETTLE_ROUTES = 3;

/**
 * A worker in another language, over HTTP: pulls at a random live instance, works each item, and
 * settles it at a random other instance (the relay takes it to the holder). A settle whose
 * instance cannot be reached is sent to another one, as a client behind a load balancer would: the
 * holder's lease fences, so a second copy of a settle that landed is refused (409), never applied twice.
 */
export class HttpWorker {
  private stopping = false;
  private held = 0;

  constructor(
    private readonly fleet: Fleet,
    private readonly plan: WorkerPlan,
    private readonly random: () => number,
    private readonly ledger: Ledger,
    private readonly book: LeaseBook,
  ) {}

  /** Holds no pulled item (between pulls, or stopped). */
  get idle(): boolean {
    return this.held === 0;
  }

  stop(): void {
    this.stopping = true;
  }

  /** Pulls and works until stopped (or no instance is left). */
  async run(): Promise<void> {
    while (!this.stopping && this.fleet.live().length > 0) {
      const at = this.fleet.pick();
      let answer: HttpAnswer<PulledItem[]>;
      try {
        answer = await post<PulledItem[]>(at, '/work/pull', { domain: this.plan.domain, max: this.plan.pullMax, waitMs: this.plan.pullWaitMs });
      } catch {
        // The instance died during the pull: what it leased for it comes back after the lease.
        continue;
      }
      if (answer.status !== 200) {
        this.book.unexpected.push(`pull at ${at.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      // Worked side by side, so the time a lease is held does not grow with the batch.
      this.held = answer.body.length;
      await Promise.all(answer.body.map((item) => this.work(this.book.issue(item, at)).finally(() => this.held--)));
    }
  }

  private async work(lease: LeaseRecord): Promise<void> {
    const { item } = lease;
    const body = { domain: item.domain, lease: item.lease };
    await sleep(between(this.random, this.plan.workMinMs, this.plan.workMaxMs));
    const roll = this.random();
    if (item.attempts === 1 && roll < this.plan.retryShare) {
      await this.settle(lease, 'retry', { ...body, delayMs: this.plan.retryDelayMs, error: 'chaos: asked for another attempt' });
      return;
    }
    if (roll < this.plan.retryShare + this.plan.extendShare) {
      const extended = await this.settle(lease, 'extend', body);
      // The lease is lost (its holder died, or it lapsed): the item goes to another worker, so this one must not process it.
      if (extended?.status !== 200) return;
    }
    this.ledger.process(item.payload.key, item.attempts);
    await this.settle(lease, 'ack', body);
  }

  /** Sends the settle to an instance other than the holder; one that cannot be reached passes it to the next. */
  private async settle(lease: LeaseRecord, op: SettleOp, body: Record<string, unknown>): Promise<HttpAnswer | undefined> {
    const tried: FleetInstance[] = [lease.holder];
    for (let route = 0; route < MAX_SETTLE_ROUTES; route++) {
      const via = this.fleet.pick(tried);
      const record = this.book.sent(lease, op, via);
      try {
        const answer = await post<{ code?: string }>(via, `/work/${encodeURIComponent(lease.item.id)}/${op}`, body);
        this.book.answered(record, answer.status, answer.body?.code);
        if (![200, 409, 503].includes(answer.status)) this.book.unexpected.push(`${op} at ${via.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return answer;
      } catch {
        this.book.unreached(record);
        tried.push(via);
      }
    }
    return undefined;
  }
}
