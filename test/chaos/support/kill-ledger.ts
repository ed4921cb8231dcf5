import { performance } from 'node:perf_hooks';
import type { Delivery, WorkItem } from '../../../libs/kanban/src/interfaces';
import type { KanbanTransport, TransportSettings } from '../../../libs/kanban/src/transport';
import { waitFor } from '../../harness';
import { Ledger } from '../../ledger/ledger';
import { ACK_IN_FLIGHT_WINDOW_MS } from '../../failover/support/duplicates';
import { contractSettings, makeItem } from '../../contract/contract-helpers';
import { busyRows } from './queue-drain';

/**
 * The grouped broker kill every broker's spec runs: 800 items in 20 groups (window 5), 5 groups
 * capped at 2 in flight, published 10 at a time and worked by 3 workers pulling 10 on 4 s leases.
 * The broker dies once 300 publishes resolved and stays down until 50 were refused; a publish
 * fails after 500 ms while it is down.
 */
export const GROUPED_KILL = {
  groups: 20,
  itemsPerGroup: 40,
  window: 5,
  cappedGroups: 5,
  groupCap: 2,
  publishConcurrency: 10,
  workers: 3,
  pullSize: 10,
  leaseMs: 4_000,
  publishTimeoutMs: 500,
  killAfter: 300,
  outagePublishes: 50,
};

/** Pause of a publish lane after a refused publish, and of a worker after a failed pull, so neither spins while the broker is down. */
const ERROR_BACKOFF_MS = 100;
const PULL_WAIT_MS = 300;
/** Workers give up after this whatever happens, so a failing test cannot keep Jest alive. */
const WORKER_DEADLINE_MS = 150_000;
/** Upper bound of each step of the outage: the publishes before the kill, the refusals during it. */
const OUTAGE_STEP_TIMEOUT_MS = 60_000;

/** How the broker dies and comes back. */
export interface BrokerOutage {
  kill(): Promise<void>;
  restart(): Promise<void>;
}

const keyOf = (item: WorkItem): string => (item.payload as { key: string }).key;

/**
 * The GROUPED_KILL ledger test on one transport: workers pull, record and ack (normal, domain)
 * while every item is published once and the broker is killed and restarted partway through. The
 * ledger holds what was confirmed, refused and processed; a refused publish is never retried.
 */
export class KillLedger {
  /** Transport settings of the run: retries enough never to dead-letter an item the kill delayed. */
  static readonly settings: TransportSettings = contractSettings({
    leaseMs: GROUPED_KILL.leaseMs,
    maxAttempts: 20,
    retryBackoffMs: [200],
    workerPullSize: GROUPED_KILL.pullSize,
    groups: { window: GROUPED_KILL.window, metrics: false, domains: {} },
  });

  readonly ledger = new Ledger();
  /** Interleaved across the groups (g0, g1, …), each with a key of its own for the ledger. */
  readonly items: WorkItem[];
  /** Keys delivered to a worker and not yet acked. */
  private readonly held = new Set<string>();
  /** When each ack landed (performance.now()). */
  private readonly ackTimes: number[] = [];
  private working = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly transport: KanbanTransport,
    private readonly domain: string,
  ) {
    const { groups, itemsPerGroup } = GROUPED_KILL;
    this.items = Array.from({ length: itemsPerGroup }, (_, n) => Array.from({ length: groups }, (_, g) => makeItem({ domain, group: `g${g}`, payload: { key: `g${g}-${n}` } }))).flat();
  }

  /** Caps the first `cappedGroups` groups at `groupCap` items in flight. */
  async capGroups(): Promise<void> {
    for (let g = 0; g < GROUPED_KILL.cappedGroups; g++) await this.transport.setGroupLimits(this.domain, `g${g}`, { maxInFlight: GROUPED_KILL.groupCap });
  }

  startWorkers(): void {
    this.working = true;
    this.workers = Array.from({ length: GROUPED_KILL.workers }, () => this.runWorker());
  }

  /** Stops the workers once their current batch is acked. Safe to call again. */
  async stopWorkers(): Promise<void> {
    this.working = false;
    await Promise.all(this.workers);
  }

  /**
   * Publishes every item once while `outage` kills the broker (after `killAfter` confirmed
   * publishes) and restarts it (after `outagePublishes` refused ones). Returns what was in flight at
   * the kill: deliveries the workers held and acks landed within ACK_IN_FLIGHT_WINDOW_MS before it.
   */
  async publishThrough(outage: BrokerOutage): Promise<number> {
    const { killAfter, outagePublishes } = GROUPED_KILL;
    let inFlightAtKill = 0;
    const outageDone = (async () => {
      await waitFor(() => this.ledger.acknowledgedCount >= killAfter, { timeoutMs: OUTAGE_STEP_TIMEOUT_MS, intervalMs: 5, description: `${killAfter} acknowledged publishes` });
      const killedAt = performance.now();
      inFlightAtKill = this.held.size + this.ackTimes.filter((at) => at >= killedAt - ACK_IN_FLIGHT_WINDOW_MS).length;
      await outage.kill();
      await waitFor(() => this.ledger.summary().rejected >= outagePublishes, {
        timeoutMs: OUTAGE_STEP_TIMEOUT_MS,
        intervalMs: 20,
        description: `${outagePublishes} refused publishes while the broker is down`,
      });
      await outage.restart();
    })();
    // Its failure is thrown below once publishing ended; until then it must not count as unhandled.
    outageDone.catch(() => undefined);
    await this.publishAll();
    await outageDone;
    return inFlightAtKill;
  }

  /**
   * Prints the ledger's line, then asserts what the kill must keep: every publish confirmed or
   * refused (at least the outage's refusals), no confirmed item lost or dead-lettered, duplicates
   * only among the `inFlightAtKill` deliveries, and the domain's queues empty.
   */
  async expectNoneLost(label: string, inFlightAtKill: number): Promise<void> {
    const summary = this.ledger.summary();
    console.log(this.ledger.line(label, { items: this.items.length, groups: GROUPED_KILL.groups, inFlightAtKill }));
    expect(summary).toMatchObject({ attempted: this.items.length, lost: 0, unexpected: 0, acknowledgedDeadLettered: 0 });
    expect(summary.acknowledged + summary.rejected).toBe(this.items.length);
    expect(summary.rejected).toBeGreaterThanOrEqual(GROUPED_KILL.outagePublishes);
    expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtKill);
    expect(await busyRows(this.transport, this.domain)).toEqual([]);
  }

  /** Publishes every item once, `publishConcurrency` at a time; a refused publish is recorded, never retried. */
  private async publishAll(): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < this.items.length) {
        const item = this.items[next++];
        this.ledger.attempt(keyOf(item));
        try {
          const receipt = await this.transport.publish(item);
          this.ledger.acknowledge(keyOf(item), receipt.broker);
        } catch (error) {
          this.ledger.reject(keyOf(item), (error as Error).name);
          await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
        }
      }
    };
    await Promise.all(Array.from({ length: GROUPED_KILL.publishConcurrency }, lane));
  }

  /** Pulls, records and acks until stopped; broker errors back off and go on. */
  private async runWorker(): Promise<void> {
    const deadline = performance.now() + WORKER_DEADLINE_MS;
    while (this.working && performance.now() < deadline) {
      let batch;
      try {
        batch = await this.transport.pull({ domain: this.domain, priority: 'normal' }, GROUPED_KILL.pullSize, { leaseMs: GROUPED_KILL.leaseMs, waitMs: PULL_WAIT_MS });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
        continue;
      }
      for (const delivery of batch.filter((d): d is Delivery => 'item' in d)) {
        const key = keyOf(delivery.item);
        this.held.add(key);
        this.ledger.process(key, delivery.item.attempts);
        // An ack the broker refused (it is down) leaves the item to come back after its lease, as a duplicate the ledger counts.
        await this.transport.ack(delivery).then(
          () => this.ackTimes.push(performance.now()),
          () => undefined,
        );
        this.held.delete(key);
      }
    }
  }
}
