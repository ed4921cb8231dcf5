import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT } from '../kanban.constants';
import { DeadLetterNotFoundError, DrainingError, KanbanValidationError, LeaseExpiredError, QueueFullError, type FieldError } from '../errors';
import { isMalformed, type Delivery, type LeaseRef, type QueueRef } from '../interfaces/delivery.interface';
import { DEAD_LETTER_MAX_LIMIT, DEAD_LETTER_REASONS, type DeadLetter, type DeadLetterFilter, type DeadLetterPage, type DeadLetterReason } from '../interfaces/dead-letter.interface';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { QueueDepth } from '../interfaces/queue-depth.interface';
import type { BrokerName, PublishReceipt, PublishRequest, WorkItem } from '../interfaces/work-item.interface';
import { KanbanTransport, replayIdempotencyKey } from '../transport/kanban-transport';
import { validatePublishRequest, domainError, priorityError } from '../validation';
import { KanbanMetrics } from '../metrics/kanban-metrics';
import { KanbanEvents } from '../events/kanban-events';
import { SettleRelay, type RelayedSettle } from '../relay';
import { fromLeaseHandle, toLeaseHandle } from './lease-handle';
import { DomainRegistry } from './domain-registry';
import { QueuePolicyRegistry } from './queue-policy.registry';
import { publishTraced } from '../tracing/publish-span';

export interface PullRequest extends QueueRef {
  /** @default workerPullSize */
  max?: number;
  /** How long to wait for a first item on an empty queue. @default 0 */
  waitMs?: number;
  signal?: AbortSignal;
}

/** What `KanbanQueue.retry` did: handed the item back for another attempt, or dead-lettered it (its last attempt was spent). */
export type RetryOutcome = { status: 'retrying'; attempts: number } | { status: 'dead_lettered'; deadLetter: DeadLetter };

/** Header that links a replayed item to the dead letter it came from. */
export const REPLAYED_FROM_HEADER = 'kanban-replayed-from';
const QUEUE_FULL_RETRY_STEP_MS = 50;
/** Every id the library or a broker gives an item fits this; anything else cannot name a dead letter. */
const DEAD_LETTER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Longer than any cursor a transport hands out (the failover's holds one of an inner transport). */
const MAX_CURSOR_LENGTH = 64;

function checkedDeadLetterId(id: string): string {
  if (typeof id !== 'string' || !DEAD_LETTER_ID.test(id)) throw new DeadLetterNotFoundError(String(id).slice(0, 128));
  return id;
}

/**
 * The queue API: publish, pull, settle, depth and dead-letter operations. Validates every input
 * before a broker sees it and keeps the metrics; the transport behind it does the storing.
 */
@Injectable()
export class KanbanQueue {
  private readonly logger = new Logger(KanbanQueue.name);
  private draining = false;
  private readonly domains: DomainRegistry;
  private readonly policies: QueuePolicyRegistry;

  constructor(
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
    @Inject(KANBAN_OPTIONS) private readonly options: KanbanResolvedOptions,
    private readonly metrics: KanbanMetrics,
    private readonly events: KanbanEvents,
    private readonly relay: SettleRelay,
    /** The handlers' per-queue rules; without it every queue follows the module's options. */
    @Optional() policies?: QueuePolicyRegistry,
  ) {
    this.policies = policies ?? new QueuePolicyRegistry(options);
    relay.serve((settle) => this.settleHere(settle));
    this.domains = new DomainRegistry(options.maxDomains, async () => (await this.transport.depth()).map((queue) => queue.domain));
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Refuses new publishes from now on (the first step of a drain). */
  stopIntake(): void {
    if (!this.draining) this.logger.log('Intake stopped: kanban is draining');
    this.draining = true;
  }

  /**
   * Stores one item; resolves once the broker durably holds it.
   * @throws KanbanValidationError, DrainingError, DomainLimitError, QueueFullError, BrokerUnavailableError
   */
  async publish(request: PublishRequest): Promise<PublishReceipt> {
    if (this.draining) throw new DrainingError();
    const item = validatePublishRequest(request, this.options.maxPayloadBytes);
    return publishTraced(item, () => this.store(item));
  }

  /**
   * Hands out up to `max` deliveries under a lease. Expired items are dead-lettered as
   * `deadline_exceeded` and undecodable ones as `malformed` on the way: neither reaches the caller.
   */
  async pull(request: PullRequest): Promise<Delivery[]> {
    const errors: FieldError[] = [];
    const domain = domainError(request.domain);
    if (domain) errors.push({ field: 'domain', message: domain });
    if (request.priority !== undefined && priorityError(request.priority)) errors.push({ field: 'priority', message: priorityError(request.priority) as string });
    const max = request.max ?? this.options.workerPullSize;
    const maxPull = this.policies.maxPullSize * 100;
    if (!Number.isSafeInteger(max) || max < 1 || max > maxPull) {
      errors.push({ field: 'max', message: `must be an integer from 1 to ${maxPull}` });
    }
    if (errors.length) throw new KanbanValidationError(errors);
    await this.domains.admit(request.domain);
    if (request.priority) await this.transport.ensureQueue(request.priority, request.domain);

    const deliveries = await this.transport.pull({ domain: request.domain, priority: request.priority }, max, {
      leaseMs: this.policies.leaseMsFor(request.priority, request.domain),
      waitMs: request.waitMs ?? 0,
      signal: request.signal,
    });
    const usable: Delivery[] = [];
    const failures: unknown[] = [];
    const now = Date.now();
    for (const delivery of deliveries) {
      if (!isMalformed(delivery) && delivery.item.deadline > now && !this.pastLastAttempt(delivery)) {
        usable.push({ ...delivery, lease: toLeaseHandle(delivery.priority, delivery.item.group, delivery.item.publishedAt, this.relay.holder, delivery.lease) });
        this.metrics.recordGroupHandedOut(delivery.domain, delivery.item.group);
        continue;
      }
      const [reason, error] = isMalformed(delivery)
        ? (['malformed', delivery.error] as const)
        : delivery.item.deadline <= now
          ? (['deadline_exceeded', `deadline ${new Date(delivery.item.deadline).toISOString()} passed before delivery`] as const)
          : (['stalled', `lease lapsed on the last of ${this.policies.maxAttemptsFor(delivery.priority, delivery.domain)} attempts`] as const);
      try {
        await this.deadLetterRef(delivery, reason, error);
      } catch (failure) {
        // The usable deliveries are leased already: failing the pull would strand them until their
        // leases lapse. The one that failed keeps its lease and comes back when it lapses.
        this.logger.error(`Could not dead-letter ${delivery.id} (${delivery.priority}.${delivery.domain}) as ${reason}: ${(failure as Error).message}; it is delivered again after its lease`);
        failures.push(failure);
      }
    }
    if (usable.length === 0 && failures.length > 0) throw failures[0];
    return usable;
  }

  /**
   * A delivery past its queue's maxAttempts: a lease lapsed on the last attempt of a handler whose
   * maxAttempts is below the transport's (built for the largest of the app's handlers).
   */
  private pastLastAttempt(delivery: Delivery): boolean {
    return delivery.item.attempts > this.policies.maxAttemptsFor(delivery.priority, delivery.domain);
  }

  /**
   * Settles run at the instance that handed the lease out: at another one they are relayed there.
   * @throws LeaseExpiredError when the lease lapsed and the item went to another holder.
   */
  async ack(id: string, domain: string, lease: string): Promise<void> {
    const { ref, group, publishedAt, holder } = fromLeaseHandle(id, domain, lease);
    if (this.relay.isElsewhere(holder)) return this.relay.forward(holder, { op: 'ack', id, domain, lease });
    await this.fenced(ref, () => this.transport.ack(ref));
    const labels = { priority: ref.priority, domain, broker: this.transport.brokerOf(ref) };
    this.metrics.recordAcked(labels, publishedAt);
    this.metrics.recordGroupCompleted(domain, group, 'ack');
    this.events.emit({ type: 'acked', id, ...labels });
  }

  /** Dead-letters the item with reason `nack` and the caller's reason. */
  async nack(id: string, domain: string, lease: string, reason: string): Promise<DeadLetter> {
    return this.deadLetter(id, domain, lease, 'nack', reason);
  }

  async deadLetter(id: string, domain: string, lease: string, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    const { ref, holder } = fromLeaseHandle(id, domain, lease);
    if (this.relay.isElsewhere(holder)) return this.relay.forward(holder, { op: 'deadLetter', id, domain, lease, reason, ...(error !== undefined ? { error } : {}) });
    return this.deadLetterRef(ref, reason, error);
  }

  /**
   * A failed delivery: the one place that decides between another attempt and the dead-letter
   * queue, for every settler (a worker whose handler threw, an HTTP worker, a breaker handing back
   * items it pulled and never ran). While attempts are left, the item comes back after `delayMs`;
   * once the delivery the transport counts (never the caller) is number `maxAttempts` (the queue's
   * handler's, else the module's), it is
   * dead-lettered as `max_attempts` with `error`. An item handed back unstarted counts as an
   * attempt too: the broker counted its delivery, so returning it on its last attempt would either
   * exceed `maxAttempts` or, where the broker enforces the limit (NATS max_deliver), leave it
   * neither delivered nor dead-lettered.
   * @param error the last failure, kept with the dead letter.
   * @param headers set on the item for its next attempt where the transport stores it again (the
   * failed attempt's trace, from this instance's workers, whose leases are their own).
   * @throws LeaseExpiredError when the lease lapsed and the item went to another holder.
   */
  async retry(id: string, domain: string, lease: string, delayMs: number, error?: string, headers?: Record<string, string>): Promise<RetryOutcome> {
    const { ref, holder } = fromLeaseHandle(id, domain, lease);
    if (this.relay.isElsewhere(holder)) return this.relay.forward(holder, { op: 'retry', id, domain, lease, delayMs, ...(error !== undefined ? { error } : {}) });
    const attempts = await this.fenced(ref, () => this.transport.deliveryAttempts(ref));
    const maxAttempts = this.policies.maxAttemptsFor(ref.priority, domain);
    if (attempts >= maxAttempts) {
      const why = error ?? `retried on attempt ${attempts} of ${maxAttempts}; no attempts left`;
      return { status: 'dead_lettered', deadLetter: await this.deadLetterRef(ref, 'max_attempts', why) };
    }
    await this.fenced(ref, () => this.transport.retry(ref, delayMs, headers));
    this.metrics.retries.inc({ priority: ref.priority, domain, broker: this.transport.brokerOf(ref) });
    return { status: 'retrying', attempts };
  }

  /**
   * Keeps a long-running delivery's lease alive. Returns the epoch ms the lease now lasts until,
   * from the length the broker granted (it may cap the request), counted from before the call, so
   * it never overstates the lease.
   * @param leaseMs @default the lease a pull of the item's queue hands out
   */
  async extendLease(id: string, domain: string, lease: string, leaseMs?: number): Promise<number> {
    const { ref, holder } = fromLeaseHandle(id, domain, lease);
    leaseMs ??= this.policies.leaseMsFor(ref.priority, domain);
    if (this.relay.isElsewhere(holder)) return this.relay.forward(holder, { op: 'extendLease', id, domain, lease, leaseMs });
    const from = Date.now();
    const grantedMs = await this.fenced(ref, () => this.transport.extendLease(ref, leaseMs));
    return from + grantedMs;
  }

  async depth(): Promise<QueueDepth[]> {
    const depth = await this.transport.depth();
    this.domains.observe(depth.map((queue) => queue.domain));
    return depth;
  }

  async sweepStalled(): Promise<DeadLetter[]> {
    const moved = await this.transport.sweepStalled(this.options.deadLetterTimeoutMs);
    for (const letter of moved) this.recordDeadLetter(letter);
    return moved;
  }

  /**
   * One page of dead letters, oldest first; pass `nextCursor` back as `cursor` for the next one.
   * @throws KanbanValidationError for a bad domain, reason, limit or cursor.
   */
  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetterPage> {
    const errors: FieldError[] = [];
    const invalidDomain = filter.domain !== undefined ? domainError(filter.domain) : undefined;
    if (invalidDomain) errors.push({ field: 'domain', message: invalidDomain });
    if (filter.reason !== undefined && !DEAD_LETTER_REASONS.includes(filter.reason)) {
      errors.push({ field: 'reason', message: `must be one of ${DEAD_LETTER_REASONS.join(', ')}` });
    }
    if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 1 || filter.limit > DEAD_LETTER_MAX_LIMIT)) {
      errors.push({ field: 'limit', message: `must be an integer from 1 to ${DEAD_LETTER_MAX_LIMIT}` });
    }
    if (filter.cursor !== undefined && (typeof filter.cursor !== 'string' || filter.cursor.length === 0 || filter.cursor.length > MAX_CURSOR_LENGTH)) {
      errors.push({ field: 'cursor', message: 'must be a nextCursor returned by a previous listing' });
    }
    if (errors.length) throw new KanbanValidationError(errors);
    return this.transport.listDeadLetters(filter);
  }

  /** @throws DeadLetterNotFoundError, also for an id no item can have (brokers must never see it as a name or subject). */
  async getDeadLetter(id: string): Promise<DeadLetter> {
    return this.transport.getDeadLetter(checkedDeadLetterId(id));
  }

  /**
   * Republishes a dead letter as a new item (new id, attempts from 1, deadline extended by its
   * original length when it has passed), then removes the dead letter. A crash in between leaves
   * it in both places, never in neither. Replays of one letter at once, through any instances,
   * publish one item: the item carries the idempotency key `kanban-replay:{id}`.
   * @throws DeadLetterNotFoundError, KanbanValidationError when the dead letter is malformed.
   */
  async replayDeadLetter(id: string): Promise<PublishReceipt> {
    if (this.draining) throw new DrainingError();
    let replayed: WorkItem | undefined;
    const receipt = await this.transport.replayDeadLetter(checkedDeadLetterId(id), async (letter) => {
      replayed = this.replayItem(letter);
      await this.transport.ensureQueue(replayed.priority, replayed.domain);
      return replayed;
    });
    if (replayed && !receipt.duplicate) {
      const labels = { priority: replayed.priority, domain: replayed.domain, broker: receipt.broker };
      this.metrics.recordPublished(labels);
      this.events.emit({ type: 'published', id: receipt.id, ...labels });
    }
    this.logger.log(`Dead letter ${id} replayed as ${receipt.id} on ${receipt.broker}${receipt.duplicate ? ' (by a concurrent replay)' : ''}`);
    return receipt;
  }

  /** @throws DeadLetterNotFoundError */
  async purgeDeadLetter(id: string): Promise<void> {
    await this.transport.deleteDeadLetter(checkedDeadLetterId(id));
  }

  /** Totals since start, as the spec's `kanban_queue:get_metrics()`. */
  async getMetrics(): Promise<{ published: number; acked: number; deadLettered: number }> {
    const sum = async (counter: { get(): Promise<{ values: { value: number }[] }> }) => (await counter.get()).values.reduce((total, v) => total + v.value, 0);
    return {
      published: await sum(this.metrics.published),
      acked: await sum(this.metrics.acked),
      deadLettered: await sum(this.metrics.deadLettered),
    };
  }

  /** @throws KanbanValidationError when the letter is malformed (no item to republish). */
  private replayItem(letter: DeadLetter): WorkItem {
    if (!letter.item) {
      throw new KanbanValidationError([{ field: 'id', message: `dead letter ${letter.id} is malformed (undecodable bytes) and cannot be replayed` }]);
    }
    const original = letter.item;
    const now = Date.now();
    const deadline = original.deadline > now ? original.deadline : now + Math.max(original.deadline - original.publishedAt, 1);
    return validatePublishRequest(
      {
        priority: original.priority,
        domain: original.domain,
        payload: original.payload,
        deadline,
        idempotencyKey: replayIdempotencyKey(letter.id),
        headers: { ...original.headers, [REPLAYED_FROM_HEADER]: original.id },
        ...(original.group !== undefined ? { group: original.group } : {}),
      },
      this.options.maxPayloadBytes,
    );
  }

  private async store(item: WorkItem): Promise<PublishReceipt> {
    await this.domains.admit(item.domain);
    await this.transport.ensureQueue(item.priority, item.domain);
    const giveUpAt = performance.now() + this.options.queueFullWaitMs;
    for (;;) {
      try {
        const receipt = await this.transport.publish(item);
        if (!receipt.duplicate) {
          const labels = { priority: item.priority, domain: item.domain, broker: receipt.broker };
          this.metrics.recordPublished(labels);
          this.events.emit({ type: 'published', id: receipt.id, ...labels });
        }
        return receipt;
      } catch (error) {
        const waiting = error instanceof QueueFullError && this.options.queueFullBehavior === 'wait' && performance.now() < giveUpAt;
        if (!waiting) throw error;
        await sleep(QUEUE_FULL_RETRY_STEP_MS);
      }
    }
  }

  /** A settle another instance relayed here; one naming another holder was not handed out here and is refused. */
  private async settleHere(settle: RelayedSettle): Promise<unknown> {
    const { id, domain, lease } = settle;
    if (fromLeaseHandle(id, domain, lease).holder !== this.relay.holder) throw new LeaseExpiredError(id, domain);
    switch (settle.op) {
      case 'ack':
        return this.ack(id, domain, lease);
      case 'deadLetter':
        return this.deadLetter(id, domain, lease, settle.reason, settle.error);
      case 'retry':
        return this.retry(id, domain, lease, settle.delayMs, settle.error);
      case 'extendLease':
        return this.extendLease(id, domain, lease, settle.leaseMs);
    }
  }

  private async deadLetterRef(ref: LeaseRef, reason: DeadLetterReason, error?: string): Promise<DeadLetter> {
    const letter = await this.fenced(ref, () => this.transport.deadLetter(ref, reason, error));
    this.recordDeadLetter(letter);
    return letter;
  }

  /** Runs a settle on the transport; one refused for a lapsed lease counts in `kanban_lease_expiries_total`. */
  private async fenced<T>(ref: LeaseRef, settle: () => Promise<T>): Promise<T> {
    try {
      return await settle();
    } catch (error) {
      if (error instanceof LeaseExpiredError) this.recordLeaseExpiry(ref);
      throw error;
    }
  }

  private recordLeaseExpiry(ref: LeaseRef): void {
    let broker: BrokerName;
    try {
      broker = this.transport.brokerOf(ref);
    } catch (error) {
      // A lease naming no broker this transport has was never handed out here: not a lapse to count.
      if (error instanceof LeaseExpiredError) return;
      throw error;
    }
    this.metrics.leaseExpiries.inc({ priority: ref.priority, domain: ref.domain, broker });
  }

  private recordDeadLetter(letter: DeadLetter): void {
    const labels = { priority: letter.priority, domain: letter.domain, broker: letter.broker };
    this.metrics.recordDeadLettered(labels, letter.reason);
    this.metrics.recordGroupCompleted(letter.domain, letter.item?.group, 'dead_letter');
    this.events.emit({ type: 'dead_lettered', id: letter.id, ...labels, reason: letter.reason, error: letter.error });
    this.logger.warn(`Dead-lettered ${letter.id} (${letter.priority}.${letter.domain}) reason=${letter.reason} attempts=${letter.attempts}`);
  }
}
