import { BehaviorSubject, type Observable } from 'rxjs';
import { BrokerUnavailableError, DeadLetterNotFoundError, GroupsUnsupportedError } from '../errors';
import type { GroupFilter, GroupLimits, GroupPage, KanbanGroupOptions } from '../interfaces/group.interface';
import type { DeadLetter, DeadLetterFilter, DeadLetterPage, DeadLetterReason } from '../interfaces/dead-letter.interface';
import type { LeaseRef, PullOptions, QueueRef, TransportDelivery } from '../interfaces/delivery.interface';
import type { QueueDepth } from '../interfaces/queue-depth.interface';
import type { BrokerName, PublishReceipt, WorkItem } from '../interfaces/work-item.interface';
import type { ControlChannel } from './control-channel.interface';
import type { ScheduleCoordination } from '../scheduler/schedule-coordination.interface';
import type { FleetCoordination, FleetSettings } from './fleet-membership.interface';

/** The options every transport needs, derived once from the module options. */
export interface TransportSettings {
  /** Deliveries before an item counts as exhausted (NATS max_deliver, RabbitMQ x-delivery-limit). */
  maxAttempts: number;
  /** Items per (priority, domain) queue above which publish throws QueueFullError. */
  maxQueueDepth: number;
  /** Same idempotencyKey inside this window = one item. */
  dedupWindowMs: number;
  maxPayloadBytes: number;
  /** Redelivery delays the broker applies when it redelivers on its own (JetStream backoff). */
  retryBackoffMs: number[];
  /** Bounds what one consumer holds unsettled (JetStream max_ack_pending, RabbitMQ prefetch). */
  workerPullSize: number;
  /** Default lease: processing timeout plus grace (JetStream ack_wait). */
  leaseMs: number;
  /** Fair share between groups: default limits, per domain, and the NATS window (filled in). */
  groups: Required<Pick<KanbanGroupOptions, 'window' | 'metrics' | 'domains'>> & Pick<KanbanGroupOptions, 'maxInFlightPerGroup' | 'groupRatePerSecond'>;
}

export type TransportState = 'connecting' | 'up' | 'degraded' | 'down' | 'closed';

export interface TransportStatus {
  state: TransportState;
  /** Broker that takes publishes now (differs from `broker` only for composite transports). */
  active: BrokerName;
  /** Short human text for health output; never holds credentials. */
  detail?: string;
}

/**
 * The one contract between the library and a broker. Each transport owns its connections;
 * nothing above it touches a broker client. A team supplies its own by providing a subclass
 * under `KANBAN_TRANSPORT`.
 *
 * Guarantees every implementation keeps (checked by the transport contract suite):
 * - `publish` resolves only once the broker durably holds the item, else rejects with a KanbanError.
 * - an item is handed to one lease holder at a time; a lapsed lease makes it deliverable again
 *   with `attempts` + 1; settling with a lapsed lease throws `LeaseExpiredError`.
 * - a domain pull serves high before normal before low.
 * - dead-lettering is at-least-once: the item is never in neither place.
 */
export abstract class KanbanTransport {
  abstract readonly broker: BrokerName;

  protected readonly status = new BehaviorSubject<TransportStatus>({ state: 'connecting', active: 'none' });
  private lifecycleOpening?: Promise<void>;
  private lifecycleClosing?: Promise<void>;

  /** Instance-to-instance requests, so any instance settles any lease; without one, settles run locally only. */
  readonly controlChannel?: ControlChannel;

  get status$(): Observable<TransportStatus> {
    return this.status.asObservable();
  }

  get currentStatus(): TransportStatus {
    return this.status.value;
  }

  /** Connects and declares the topology it needs; idempotent. */
  abstract connect(): Promise<void>;

  /**
   * Lifecycle helpers a subclass may build `connect` / `close` on (`connect() { return
   * this.connectOnce(() => this.open()); }`), so each transport keeps only what is its own:
   * - `connectOnce(open)`: one open at a time, shared by concurrent and later callers; a failed
   *   open is forgotten (the next call tries again) and published as `statusAfterFailedOpen` says.
   * - `closeOnce(shutdown)`: runs once, after an open in flight settled, then publishes `closed`.
   * - `isClosing` / `assertNotClosed()`: the open guard every operation checks.
   * @throws BrokerUnavailableError from connectOnce after close().
   */
  protected connectOnce(open: () => Promise<void>): Promise<void> {
    if (this.lifecycleClosing) return Promise.reject(new BrokerUnavailableError(this.broker, 'the transport was closed'));
    this.lifecycleOpening ??= open().catch((error: unknown) => {
      this.lifecycleOpening = undefined;
      this.status.next(this.statusAfterFailedOpen(error as Error));
      throw error;
    });
    return this.lifecycleOpening;
  }

  /**
   * What status$ says after a failed open: `down` with the error's message. A transport whose
   * status says more than the error (a broker that connected but refused its topology is
   * `degraded`) overrides it.
   */
  protected statusAfterFailedOpen(error: Error): TransportStatus {
    return { state: 'down', active: 'none', detail: error.message };
  }

  /** See connectOnce. */
  protected closeOnce(shutdown: () => Promise<void>): Promise<void> {
    this.lifecycleClosing ??= (async () => {
      await this.lifecycleOpening?.catch(() => undefined);
      await shutdown();
      this.status.next({ state: 'closed', active: 'none' });
    })();
    return this.lifecycleClosing;
  }

  /** True from the first close() on. */
  protected get isClosing(): boolean {
    return this.lifecycleClosing !== undefined;
  }

  /** @throws BrokerUnavailableError once close() was called. */
  protected assertNotClosed(): void {
    if (this.lifecycleClosing) throw new BrokerUnavailableError(this.broker, 'the transport was closed');
  }

  /** Stops handing out work and closes connections; idempotent. Unsettled items stay with the broker. */
  abstract close(): Promise<void>;

  /** Makes sure the queue for (priority, domain) exists; idempotent and cheap after the first call. */
  abstract ensureQueue(priority: WorkItem['priority'], domain: string): Promise<void>;

  /** @throws QueueFullError when the queue is at its depth limit. */
  abstract publish(item: WorkItem): Promise<PublishReceipt>;

  /** Hands out up to `max` deliveries under a lease. */
  abstract pull(queue: QueueRef, max: number, options: PullOptions): Promise<TransportDelivery[]>;

  /** @throws LeaseExpiredError */
  abstract ack(ref: LeaseRef): Promise<void>;

  /**
   * Returns the item for redelivery after `delayMs`; the next delivery counts as a new attempt.
   * KanbanQueue calls it only while attempts are left (it dead-letters on the last one, from
   * `deliveryAttempts`). `headers` are added to the item's where the transport stores the item
   * again for the next attempt; a broker that redelivers the same message keeps its headers.
   * @throws LeaseExpiredError
   */
  abstract retry(ref: LeaseRef, delayMs: number, headers?: Record<string, string>): Promise<void>;

  /**
   * Extends the lease of a long-running delivery (JetStream `working`) and returns the lease length
   * the broker granted from now: at most `leaseMs`, less where the broker caps it (NATS: the
   * consumer's ack wait). @throws LeaseExpiredError
   */
  abstract extendLease(ref: LeaseRef, leaseMs: number): Promise<number>;

  /**
   * The attempt number of the delivery `ref` holds (1 on the first delivery), as the broker or the
   * store counted it, never as the caller says: the queue decides retry or dead letter from it.
   * @throws LeaseExpiredError when `ref` is not the current lease of a delivery.
   */
  abstract deliveryAttempts(ref: LeaseRef): Promise<number>;

  /** The broker that delivered `ref` (metric labels); a composite transport reads it from the lease. */
  brokerOf(_ref: LeaseRef): BrokerName {
    return this.broker;
  }

  /** Moves the item to the dead-letter store. @throws LeaseExpiredError */
  abstract deadLetter(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter>;

  /**
   * Dead-letters deliveries left unsettled longer than `stalledAfterMs` and items whose leases
   * lapsed on their last attempt, all as `stalled`. Returns what it moved.
   */
  abstract sweepStalled(stalledAfterMs: number): Promise<DeadLetter[]>;

  abstract depth(): Promise<QueueDepth[]>;

  /**
   * Resolves when the broker answers, without reading every queue: the failover transport probes
   * an unavailable broker with it before taking it back, under a short timeout. A transport with a
   * cheaper check than a depth read overrides it.
   * @throws BrokerUnavailableError when the broker does not answer.
   */
  async probe(): Promise<void> {
    await this.depth();
  }

  /**
   * One page, oldest first; `filter.cursor` is a `nextCursor` this transport (or another instance
   * of it on the same brokers) handed out.
   * @throws KanbanValidationError for a cursor it did not hand out
   */
  abstract listDeadLetters(filter: DeadLetterFilter): Promise<DeadLetterPage>;

  /** @throws DeadLetterNotFoundError */
  abstract getDeadLetter(id: string): Promise<DeadLetter>;

  /** @throws DeadLetterNotFoundError */
  abstract deleteDeadLetter(id: string): Promise<void>;

  /**
   * Where schedules persist and which instance fires their ticks, both on this broker, with a
   * leadership lease of `leaseMs`. Optional: without it (the default) schedules live in the
   * process that created them and every instance fires its own, deduplicated by idempotency key.
   */
  scheduleCoordination(_leaseMs: number): ScheduleCoordination | undefined {
    return undefined;
  }

  /**
   * The fleet's membership and coordinator lease on this broker, so instances sharing it see each
   * other and one of them sweeps. Optional: without it (the default, and the embedded store, whose
   * file one process at a time may open) the fleet is this instance alone and it sweeps.
   */
  fleetCoordination(_settings: FleetSettings): FleetCoordination | undefined {
    return undefined;
  }

  /**
   * Sets the run-time limits of one group of `domain` (all priorities), kept on the broker so every
   * instance applies them; `null` clears them back to the options' defaults.
   * @throws GroupsUnsupportedError when the transport keeps no group state (the default).
   */
  setGroupLimits(_domain: string, _group: string, _limits: GroupLimits | null): Promise<void> {
    return Promise.reject(new GroupsUnsupportedError(this.broker));
  }

  /**
   * The groups of `domain` that hold items or run-time limits, by name, with counts over all
   * priorities. @throws GroupsUnsupportedError when the transport keeps no group state (the default).
   */
  listGroups(_domain: string, _filter: GroupFilter): Promise<GroupPage> {
    return Promise.reject(new GroupsUnsupportedError(this.broker));
  }

  /**
   * Publishes `rebuild(letter)` and then removes the letter: a crash in between leaves it in both
   * places, never in neither. `rebuild` must give the item the idempotency key
   * `replayIdempotencyKey(id)`, so replays of one letter at once, through any instances, publish one
   * item (the later ones answer with the first item's receipt, or DeadLetterNotFoundError once it
   * is gone). A transport whose publish folds keys only within one instance overrides this.
   * @throws DeadLetterNotFoundError
   */
  async replayDeadLetter(id: string, rebuild: (letter: DeadLetter) => Promise<WorkItem>): Promise<PublishReceipt> {
    const receipt = await this.publish(await rebuild(await this.getDeadLetter(id)));
    await this.deleteDeadLetter(id).catch((error: unknown) => {
      // A concurrent replay removed it first: this one's publish was folded into that one's.
      if (!(error instanceof DeadLetterNotFoundError)) throw error;
    });
    return receipt;
  }
}

/** The idempotency key of the item a replay of dead letter `id` publishes. */
export function replayIdempotencyKey(id: string): string {
  return `kanban-replay:${id}`;
}
