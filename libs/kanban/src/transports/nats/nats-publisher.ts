import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { errors as natsErrors } from './nats-client';
import { decodeItem, encodeItem } from '../../codec/item-codec';
import { KanbanValidationError, TopologyConflictError } from '../../errors';
import type { PublishReceipt, WorkItem } from '../../interfaces/work-item.interface';
import type { NatsDeclaredQueues } from './nats-declared-queues';
import { brokerError, findCause, jsApiCode, JS_ERR, mayAnswerSoon, publishError } from './nats-errors';
import type { NatsNames } from './nats-names';
import { NATS_PUBLISH_ATTEMPT_TIMEOUT_MS, NATS_PUBLISH_RETRY_INTERVAL_MS } from './nats.constants';
import type { Enqueued, QueueEntry } from './nats-group-admission';
import type { NatsReplies } from './nats-replies';
import type { NatsTopology } from './nats-topology';

/** What the publisher needs from its transport. */
export interface NatsPublisherContext {
  names: NatsNames;
  queues: NatsDeclaredQueues;
  logger: Logger;
  publishTimeoutMs: number;
  /** The connected clients, checked: throws BrokerUnavailableError when closed or disconnected. */
  connected(): { js: JetStreamClient; jsm: JetStreamManager; replies: NatsReplies; topology: NatsTopology };
  /** A failed publish may be cluster trouble: deliveries are checked against their stream leaders for a while (NatsDeliveryVerifier). */
  suspect(why: string): void;
  /** Stores an item in its queue: a grouped one in a free slot of its group or in its backlog (NatsGroupAdmission). */
  enqueue(entry: QueueEntry): Promise<Enqueued>;
}

/** `attempt`, or a TimeoutError once `deadline` (performance.now() time) has passed; the attempt runs on (a late PubAck is deduplicated). */
async function beforeDeadline<T>(attempt: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new natsErrors.TimeoutError()), Math.max(0, deadline - performance.now()));
  });
  attempt.catch(() => undefined);
  try {
    return await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The id a stored message carries, if it decodes. */
function idOf(data: Uint8Array): string | undefined {
  try {
    return decodeItem(data, 0).id;
  } catch {
    return undefined;
  }
}

/**
 * Publishing for the NATS transport: an item goes to its queue's stream under `Nats-Msg-Id` (its
 * id, or its idempotency key), and resolves on the PubAck only.
 */
export class NatsPublisher {
  constructor(private readonly context: NatsPublisherContext) {}

  /**
   * Resolves on the PubAck. A duplicate (same Nats-Msg-Id inside the window) answers with the first item's id.
   * A publish that found no stream leader, or was not answered within NATS_PUBLISH_ATTEMPT_TIMEOUT_MS,
   * is sent again (see NATS_PUBLISH_RETRY_INTERVAL_MS) until publishTimeoutMs has passed since the
   * call; only then does it fail.
   * @throws KanbanValidationError, QueueFullError, TopologyConflictError, BrokerUnavailableError
   */
  async publish(item: WorkItem): Promise<PublishReceipt> {
    const { topology } = this.context.connected();
    const queue = this.context.names.workSubject(item.priority, item.domain);
    const bytes = encodeItem(item);
    if (bytes.length > topology.maxMessageBytes) {
      throw new KanbanValidationError([{ field: 'item', message: `is ${bytes.length} bytes encoded; a ${queue} message holds at most ${topology.maxMessageBytes}` }]);
    }
    const deadline = performance.now() + this.context.publishTimeoutMs;
    const earlier = item.group !== undefined && item.idempotencyKey !== undefined ? await this.recordedId(item) : undefined;
    if (earlier !== undefined) return { id: earlier, broker: 'nats', duplicate: true };
    for (let retried = false; ; retried = true) {
      let sent: Enqueued;
      try {
        sent = await beforeDeadline(this.declareAndPublish(item, bytes), Math.min(deadline, performance.now() + NATS_PUBLISH_ATTEMPT_TIMEOUT_MS));
      } catch (error) {
        this.context.suspect(`a publish to ${queue} failed (${(error as Error).message})`);
        if (!mayAnswerSoon(error) || performance.now() + NATS_PUBLISH_RETRY_INTERVAL_MS >= deadline) throw this.publishFailure(error, queue);
        // A deleted stream answers like a leaderless one: the next attempt declares it again.
        if (findCause(error, natsErrors.NoRespondersError) || jsApiCode(error) === JS_ERR.streamNotFound) this.context.queues.forget(item.priority, item.domain);
        await sleep(NATS_PUBLISH_RETRY_INTERVAL_MS);
        continue;
      }
      if (sent.ack.duplicate) {
        const id = await this.originalId(sent.stream, sent.ack.seq, item);
        // The item's own earlier attempt, stored though its answer never came, is not a duplicate publish.
        if (!(retried && id === item.id)) return { id, broker: 'nats', duplicate: true };
      }
      if (item.idempotencyKey !== undefined) await this.recordIdempotency(item);
      return { id: item.id, broker: 'nats', duplicate: false };
    }
  }

  private declareAndPublish(item: WorkItem, bytes: Uint8Array): Promise<Enqueued> {
    return this.context.enqueue({
      priority: item.priority,
      domain: item.domain,
      group: item.group,
      data: bytes,
      msgId: item.idempotencyKey !== undefined ? `idempotency:${item.idempotencyKey}` : item.id,
    });
  }

  /**
   * The id recorded for the item's idempotency key by an earlier publish, if any. A grouped item
   * may enter a slot or its backlog, two streams with duplicate windows of their own, so a key
   * published before is looked up first. Limitation: two publishes of one key at the same moment
   * may both be stored when one goes to a slot and the other to the backlog.
   */
  private async recordedId(item: WorkItem): Promise<string | undefined> {
    const { jsm } = this.context.connected();
    const record = await jsm.streams.getMessage(this.context.names.idempotencyStream, { last_by_subj: this.idempotencySubject(item) }).catch((error: unknown) => {
      throw brokerError(error, `looking up the idempotency key of an item for ${item.priority}/${item.domain}`);
    });
    return record ? record.string() : undefined;
  }

  private publishFailure(error: unknown, queue: string) {
    if (jsApiCode(error) === JS_ERR.wrongStream) {
      return new TopologyConflictError('nats', `subject ${queue}`, `it is captured by a stream other than the one kanban declared (${(error as Error).message})`);
    }
    return publishError(error, queue, this.context.publishTimeoutMs);
  }

  /**
   * The id of the item a duplicate publish was folded into: read from the stored message while it
   * waits, else from the idempotency record written after the first publish. Limitation: when the
   * first item was already consumed and its publisher died before recording it, the id is unknown
   * and the receipt carries the id this publish would have had.
   */
  private async originalId(stream: string, seq: number, item: WorkItem): Promise<string> {
    const { jsm } = this.context.connected();
    const stored = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    const fromStream = stored ? idOf(stored.data) : undefined;
    if (fromStream) return fromStream;
    const record = await jsm.streams.getMessage(this.context.names.idempotencyStream, { last_by_subj: this.idempotencySubject(item) }).catch(() => null);
    if (record) return record.string();
    this.context.logger.warn(`duplicate publish of idempotency key in ${item.domain}: original item no longer stored, returning ${item.id}`);
    return item.id;
  }

  private idempotencySubject(item: WorkItem): string {
    const hash = createHash('sha256')
      .update(item.idempotencyKey ?? '')
      .digest('hex');
    return this.context.names.idempotencySubject(item.priority, item.domain, hash);
  }

  /** Best effort: the item is already stored, so a failure here only costs the duplicate's id later. */
  private async recordIdempotency(item: WorkItem): Promise<void> {
    try {
      await this.context.connected().js.publish(this.idempotencySubject(item), item.id, { timeout: this.context.publishTimeoutMs });
    } catch (error) {
      this.context.logger.warn(`could not record idempotency key of item ${item.id}: ${(error as Error).message}`);
    }
  }
}
