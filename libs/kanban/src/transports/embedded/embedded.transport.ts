import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { sqliteDriver } from './sqlite-driver';
import { BrokerUnavailableError, DeadLetterNotFoundError, ItemNotFoundError, LeaseExpiredError } from '../../errors';
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterReason,
  EmbeddedStoreOptions,
  GroupFilter,
  GroupLimits,
  GroupPage,
  LeaseRef,
  Priority,
  PublishReceipt,
  PullOptions,
  QueueDepth,
  QueueRef,
  TransportDelivery,
  WorkItem,
} from '../../interfaces';
import { KanbanTransport, type TransportSettings, type TransportStatus } from '../../transport';
import { EMBEDDED_BUSY_TIMEOUT_MS, EMBEDDED_TIMER_SLACK_MS } from './embedded.constants';
import { EmbeddedDeadLetterStore } from './embedded-dead-letter-store';
import { EmbeddedGroupStore } from './embedded-group-store';
import { EmbeddedItemStore, type EmbeddedItemRow } from './embedded-item-store';
import { EmbeddedPullWaiters } from './embedded-pull-waiters';
import { applyEmbeddedSchema } from './embedded-schema';
import { EmbeddedScheduleLeadership } from './embedded-schedule-leadership';
import { EmbeddedScheduleStore } from './embedded-schedule-store';
import type { ScheduleCoordination } from '../../scheduler/schedule-coordination.interface';
import { EmbeddedWriteBatcher, toKanbanError } from './embedded-write-batcher';
import { StoreFileLock } from './store-file-lock';

interface OpenStore {
  lock?: StoreFileLock;
  db: Database.Database;
  items: EmbeddedItemStore;
  groups: EmbeddedGroupStore;
  deadLetters: EmbeddedDeadLetterStore;
  batcher: EmbeddedWriteBatcher;
}

/**
 * The zero-setup transport: one SQLite file in WAL mode, synced on every commit.
 *
 * Leases and retry delays run on performance.now(), so a wall-clock jump expires nothing. That
 * clock is only meaningful to the instance that read it, so each connect gets a new boot id and
 * holds written under any other boot count as lapsed: after a restart, what was in flight is
 * redeliverable at once. One transport instance owns a file at a time (a second one would treat the
 * first one's leases as lapsed): a second open, in this process or another, is refused with
 * StoreLockedError naming the holder's pid (see StoreFileLock).
 *
 * A lease that lapses on the last attempt (attempts >= maxAttempts) is not handed out again and
 * counts as in flight until `sweepStalled` dead-letters it as `stalled`, so the caller of the sweep
 * sees and counts it.
 *
 * Idempotency keys are kept for `dedupWindowMs` of wall-clock time, since they must outlive a
 * restart, and still fold a publish after their item was settled (as JetStream's dedup window does).
 *
 * Within a (priority, domain) queue, pulls hand out round-robin over the items' groups, under each
 * group's maxInFlight and rate (see EmbeddedGroupStore and this folder's README).
 *
 * Pulls wait on in-process wake-ups (publish, retry, a settle in a capped group, the end of the
 * next lease or delay, a rate-limited group's next token); rows written by another process are
 * seen at the next pull.
 */
export class EmbeddedTransport extends KanbanTransport {
  readonly broker = 'embedded';
  private readonly logger = new Logger(EmbeddedTransport.name);
  private readonly waiters = new EmbeddedPullWaiters();
  private readonly knownQueues = new Set<string>();
  private store?: OpenStore;

  constructor(
    private readonly options: EmbeddedStoreOptions,
    private readonly settings: TransportSettings,
  ) {
    super();
  }

  /** @throws BrokerUnavailableError when the file cannot be opened or the transport was closed; StoreLockedError when another process has it open; TopologyConflictError when a newer schema wrote it. */
  connect(): Promise<void> {
    return this.connectOnce(() => this.open());
  }

  private async open(): Promise<void> {
    const { path } = this.options;
    let lock: StoreFileLock | undefined;
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      lock = StoreFileLock.acquire(path);
      db = new (sqliteDriver())(path, { timeout: EMBEDDED_BUSY_TIMEOUT_MS });
      applyEmbeddedSchema(db, path);
    } catch (error) {
      db?.close();
      lock?.release();
      throw toKanbanError(error);
    }
    const boot = randomUUID();
    const groups = new EmbeddedGroupStore(db, this.settings);
    this.store = {
      lock,
      db,
      items: new EmbeddedItemStore(db, boot, this.settings, groups),
      groups,
      deadLetters: new EmbeddedDeadLetterStore(db),
      batcher: new EmbeddedWriteBatcher(db),
    };
    this.status.next({ state: 'up', active: this.broker });
    this.logger.log(`Embedded store open at ${path} (boot ${boot})`);
  }

  /** Names the file: health output then says which store would not open. */
  protected override statusAfterFailedOpen(error: Error): TransportStatus {
    return { state: 'down', active: 'none', detail: `cannot open ${this.options.path}: ${error.message}` };
  }

  /** Ends waiting pulls with nothing, commits writes already queued, then closes the file. */
  close(): Promise<void> {
    return this.closeOnce(() => this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.waiters.wakeAll();
    const store = this.store;
    this.store = undefined;
    if (store) {
      try {
        store.batcher.flush();
      } finally {
        store.db.close();
        store.lock?.release();
      }
    }
    this.logger.log(`Embedded store at ${this.options.path} closed`);
  }

  async ensureQueue(priority: Priority, domain: string): Promise<void> {
    const key = `${priority}.${domain}`;
    if (this.knownQueues.has(key)) return;
    await this.write((store) => store.items.ensureQueue(priority, domain));
    this.knownQueues.add(key);
  }

  /** Resolves once the item is committed (group commit: one sync for every publish in the same turn). @throws QueueFullError */
  async publish(item: WorkItem): Promise<PublishReceipt> {
    const receipt = await this.write((store) => store.items.publish(item, Date.now()));
    if (!receipt.duplicate) this.waiters.notify(item.priority, item.domain);
    return receipt;
  }

  async pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]> {
    const limit = Math.floor(max);
    if (!(limit >= 1)) return [];
    const deadline = performance.now() + options.waitMs;
    for (;;) {
      if (this.isClosing || options.signal?.aborted) return [];
      const { deliveries, nextTokenAt = Infinity } = await this.write((store) => store.items.take(queue, limit, options.leaseMs));
      const now = performance.now();
      if (deliveries.length > 0 || now >= deadline || this.isClosing || options.signal?.aborted) return deliveries;
      const nextHoldEnd = this.store?.items.nextHoldEnd(queue) ?? Infinity;
      const wakeAt = Math.min(deadline, Math.min(nextHoldEnd, nextTokenAt) + EMBEDDED_TIMER_SLACK_MS);
      await this.waiters.wait(queue, Math.ceil(wakeAt - now), options.signal);
    }
  }

  /** @throws LeaseExpiredError, ItemNotFoundError */
  async ack(ref: LeaseRef): Promise<void> {
    const capped = await this.write((store) => {
      const acked = store.items.ack(ref) ?? this.refuse(store, ref);
      return store.groups.isCapped(ref.domain, acked.grp);
    });
    if (capped) this.waiters.notifyDomain(ref.domain);
  }

  /** @throws LeaseExpiredError, ItemNotFoundError */
  async retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): Promise<void> {
    await this.write((store) => store.items.retry(ref, delayMs, headers) || this.refuse(store, ref));
    // Waiting pulls re-arm their timers for the end of this delay (and a capped group has room again).
    this.waiters.notifyDomain(ref.domain);
  }

  /** Grants the whole `leaseMs`. @throws LeaseExpiredError, ItemNotFoundError */
  async extendLease(ref: LeaseRef, leaseMs: number): Promise<number> {
    await this.write((store) => store.items.extendLease(ref, leaseMs) || this.refuse(store, ref));
    return leaseMs;
  }

  /** @throws LeaseExpiredError, ItemNotFoundError */
  async deliveryAttempts(ref: LeaseRef): Promise<number> {
    const store = this.opened();
    return (store.items.leased(ref) ?? this.refuse(store, ref)).attempts;
  }

  /** Moves the item and deletes it in one transaction. @throws LeaseExpiredError, ItemNotFoundError */
  async deadLetter(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    const { deadLetter, capped } = await this.write((store) => {
      const row = store.items.leased(ref) ?? this.refuse(store, ref);
      return { deadLetter: this.moveToDeadLetters(store, row, reason, error), capped: store.groups.isCapped(row.domain, row.grp) };
    });
    if (capped) this.waiters.notifyDomain(ref.domain);
    return deadLetter;
  }

  async sweepStalled(stalledAfterMs: number): Promise<DeadLetter[]> {
    const moved = await this.write((store) =>
      store.items.stalled(stalledAfterMs).map((row) => {
        const why = row.lapsed ? `lease lapsed on the last attempt (${row.attempts} of ${this.settings.maxAttempts})` : `unsettled for more than ${stalledAfterMs} ms after delivery`;
        return this.moveToDeadLetters(store, row, 'stalled', why);
      }),
    );
    if (moved.length > 0) this.logger.warn(`Dead-lettered ${moved.length} stalled item(s): ${moved.map((d) => d.id).join(', ')}`);
    // Their leases no longer count against their groups' maxInFlight.
    for (const domain of new Set(moved.map((d) => d.domain))) this.waiters.notifyDomain(domain);
    return moved;
  }

  /** Kept in the file, for every priority of the domain. @throws KanbanValidationError */
  override async setGroupLimits(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    await this.write((store) => store.groups.setLimits(domain, group, limits));
    // A raised cap or rate may let a waiting pull take work now.
    this.waiters.notifyDomain(domain);
  }

  /** The default group is listed as ''. @throws KanbanValidationError for a bad domain, limit or cursor */
  override async listGroups(domain: string, filter: GroupFilter): Promise<GroupPage> {
    return this.opened().items.listGroups(domain, filter);
  }

  async depth(): Promise<QueueDepth[]> {
    return this.opened().items.depth();
  }

  /** Oldest first by row; see EmbeddedDeadLetterStore.list. */
  async listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage> {
    return this.opened().deadLetters.list(filter);
  }

  /** @throws DeadLetterNotFoundError */
  async getDeadLetter(id: string): Promise<DeadLetter> {
    const deadLetter = this.opened().deadLetters.get(id);
    if (!deadLetter) throw new DeadLetterNotFoundError(id);
    return deadLetter;
  }

  /** @throws DeadLetterNotFoundError */
  async deleteDeadLetter(id: string): Promise<void> {
    await this.write((store) => {
      if (!store.deadLetters.remove(id)) throw new DeadLetterNotFoundError(id);
    });
  }

  private moveToDeadLetters(store: OpenStore, row: EmbeddedItemRow, reason: DeadLetterReason, error: string | undefined): DeadLetter {
    const deadLetter = store.deadLetters.insert(row, reason, error, Date.now());
    store.items.remove(row);
    return deadLetter;
  }

  /** Explains why `ref` holds no current lease: someone else leased or dead-lettered the item, or it never existed. */
  private refuse(store: OpenStore, ref: LeaseRef): never {
    if (store.items.exists(ref.id, ref.domain) || store.deadLetters.get(ref.id)?.domain === ref.domain) {
      throw new LeaseExpiredError(ref.id, ref.domain);
    }
    throw new ItemNotFoundError(ref.id, ref.domain);
  }

  /** Schedules in a table of the file; the process holding the file leads. */
  override scheduleCoordination(): ScheduleCoordination {
    return {
      store: new EmbeddedScheduleStore((statement) => this.write((store) => statement(store.db))),
      leadership: new EmbeddedScheduleLeadership(),
    };
  }

  private write<T>(write: (store: OpenStore) => T): Promise<T> {
    let store: OpenStore;
    try {
      store = this.opened();
    } catch (error) {
      return Promise.reject(error);
    }
    return store.batcher.run(() => write(store));
  }

  /** @throws BrokerUnavailableError once close() was called, or before connect(). */
  private opened(): OpenStore {
    this.assertNotClosed();
    if (!this.store) throw new BrokerUnavailableError(this.broker, 'call connect() first');
    return this.store;
  }
}
