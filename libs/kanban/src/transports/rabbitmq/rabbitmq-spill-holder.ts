import type { Logger } from '@nestjs/common';
import { spillOwnerQueueOf } from './rabbitmq-names';
import type { ConsumedMessage, ConsumerLane, RabbitMqQueueConsumer } from './rabbitmq-queue-consumer';
import type { RabbitMqTopology } from './rabbitmq-topology';
import { returnsOf } from './rabbitmq-message';
import { RABBITMQ_GROUP_BUFFER_MAX_MS, RABBITMQ_GROUP_SPILL_ORPHAN_MS, RABBITMQ_GROUP_SPILL_QUIET_MS } from './rabbitmq.constants';

/** A spill queue's name after `{grouped queue}.spill.`: the group, then the publisher's burst. */
const SPILL_SUFFIX = /^[a-z][a-z0-9_-]{0,63}\.[a-z0-9]+$/;

interface Spill {
  queue: string;
  /** Its marker from the grouped queue, held unsettled while the spill queue exists (a new holder receives it again); none while a fresh copy is on its way. */
  marker?: ConsumedMessage;
  lane?: ConsumerLane;
  opening?: Promise<void>;
  retiring?: Promise<void>;
  /** The end marker while it is unsettled. */
  end?: ConsumedMessage;
  /** The end marker arrived: its publisher sends nothing more. */
  ended: boolean;
  /** performance.now() of the last delivery from the queue or return to it. */
  activeAt: number;
}

/**
 * The spill queues the holder of a grouped queue consumes beside it (see RabbitMqGroupSpills). It
 * learns of each from its marker in the grouped queue and keeps the marker unsettled while the spill
 * queue exists, so whoever holds the grouped queue next receives the markers again. A spill queue is
 * deleted once its end marker arrived (or, without one, its publisher's connection is gone and it
 * was quiet for RABBITMQ_GROUP_SPILL_ORPHAN_MS), everything delivered from it was settled, nothing
 * moved on it for RABBITMQ_GROUP_SPILL_QUIET_MS and the broker counts it empty; then its marker is
 * acked. Quorum queues ignore queue.delete's if-empty, hence the quiet time: an item returned to
 * the queue is ready again, and counted, long before it ends.
 */
export class RabbitMqSpillHolder {
  private readonly spills = new Map<string, Spill>();

  constructor(
    private readonly consumer: RabbitMqQueueConsumer,
    private readonly topology: RabbitMqTopology,
    /** Publishes a fresh copy of a marker to where it came from, then acks (or, if refused, returns) the original. */
    private readonly copyMarker: (marker: ConsumedMessage) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Spill queues being consumed or opened. */
  get queues(): string[] {
    return [...this.spills.keys()];
  }

  /** A marker from the grouped queue: consume the spill queue it names (one marker per queue is kept). */
  onMarker(marker: ConsumedMessage, queue: string): void {
    const prefix = `${this.consumer.name}.spill.`;
    if (!queue.startsWith(prefix) || !SPILL_SUFFIX.test(queue.slice(prefix.length))) {
      this.logger.warn(`Ignored a spill marker in ${this.consumer.name} naming ${queue}, not one of its spill queues`);
      this.consumer.settle(marker, 'ack');
      return;
    }
    let spill = this.spills.get(queue);
    if (spill?.marker) {
      this.consumer.settle(marker, 'ack');
      return;
    }
    if (spill) spill.marker = marker;
    else {
      this.spills.set(queue, (spill = { queue, marker, ended: false, activeAt: performance.now() }));
      this.open(spill);
    }
    if (returnsOf(marker.message) > 0) this.refresh(spill, marker);
  }

  /** The end marker of a spill queue arrived on its lane. */
  onEnd(end: ConsumedMessage, queue: string): void {
    const spill = this.spills.get(queue);
    if (!spill || spill.ended) {
      this.consumer.settle(end, 'ack');
      return;
    }
    spill.end = end;
    spill.ended = true;
    if (returnsOf(end.message) > 0) this.refresh(spill, end);
  }

  /** The broker cancelled a lane (its queue deleted): the next sweep finds out. */
  onLaneCancelled(lane: ConsumerLane): void {
    for (const spill of this.spills.values()) if (spill.lane === lane) spill.lane = undefined;
  }

  /** A delivery from the spill queue, or a return to it. */
  touch(queue: string): void {
    const spill = this.spills.get(queue);
    if (spill) spill.activeAt = performance.now();
  }

  /** A spill queue ended and drained is waiting out its quiet time: its holder stays to delete it rather than leave it to the next one. */
  get retiring(): boolean {
    for (const spill of this.spills.values()) if (spill.retiring || (spill.ended && spill.lane && itemsUnsettled(spill, spill.lane) === 0)) return true;
    return false;
  }

  /** The channel is gone: the broker requeued the markers, whoever holds the grouped queue next gets them. */
  reset(): void {
    this.spills.clear();
  }

  /** The markers (and end markers) to give back when the holder lets the grouped queue go; its spill lanes are cancelled already. */
  takeMarkers(): ConsumedMessage[] {
    const markers = [...this.spills.values()].flatMap((spill) => [spill.marker, spill.end]).filter((marker): marker is ConsumedMessage => marker !== undefined);
    this.spills.clear();
    return markers;
  }

  /** Opens the lanes that failed to open, refreshes markers held long, deletes the spill queues that ended and are drained. */
  async sweep(): Promise<void> {
    const now = performance.now();
    const work: Promise<void>[] = [];
    for (const spill of this.spills.values()) {
      for (const marker of [spill.marker, spill.end]) if (marker && now - marker.receivedAt >= RABBITMQ_GROUP_BUFFER_MAX_MS) this.refresh(spill, marker);
      if (spill.opening || spill.retiring) continue;
      if (!spill.lane) this.open(spill);
      else if (this.settledAndQuiet(spill, spill.lane, now)) work.push((spill.retiring = this.retire(spill, spill.lane)));
    }
    await Promise.all(work);
  }

  private open(spill: Spill): void {
    spill.opening = (async () => {
      if ((await this.topology.readyCount(spill.queue)) === undefined) {
        // Deleted by an earlier holder, which went before acking this marker.
        this.forget(spill);
        return;
      }
      const lane = await this.consumer.addSpillLane(spill.queue);
      if (this.spills.get(spill.queue) === spill) spill.lane = lane;
    })()
      .catch((error: unknown) => this.logger.warn(`Could not consume spill queue ${spill.queue}: ${(error as Error).message}; retrying`))
      .finally(() => {
        spill.opening = undefined;
      });
  }

  /**
   * A marker returned to its queue before (a holder went) counts towards the queue's delivery limit,
   * and one held longer than the broker's consumer_timeout would close the channel: a fresh copy
   * replaces it, confirmed before the original is acked.
   */
  private refresh(spill: Spill, marker: ConsumedMessage): void {
    if (spill.marker === marker) spill.marker = undefined;
    if (spill.end === marker) spill.end = undefined;
    this.copyMarker(marker).catch((error: unknown) => this.logger.warn(`Could not refresh the spill marker of ${spill.queue}: ${(error as Error).message}`));
  }

  private settledAndQuiet(spill: Spill, lane: ConsumerLane, now: number): boolean {
    return itemsUnsettled(spill, lane) === 0 && now - spill.activeAt >= (spill.ended ? RABBITMQ_GROUP_SPILL_QUIET_MS : RABBITMQ_GROUP_SPILL_ORPHAN_MS);
  }

  private async retire(spill: Spill, lane: ConsumerLane): Promise<void> {
    // After each await: a hand-back (the holder letting go) or a lost channel may have taken the spill meanwhile.
    const kept = (): boolean => this.spills.get(spill.queue) === spill;
    try {
      if (!spill.ended && (await this.topology.exclusiveQueueExists(spillOwnerQueueOf(spill.queue)))) return;
      if (!kept()) return;
      await this.consumer.cancelLane(lane);
      spill.lane = undefined;
      const settled = itemsUnsettled(spill, lane) === 0;
      if (!settled || (await this.topology.readyCount(spill.queue)) || !kept()) {
        spill.activeAt = performance.now();
        return;
      }
      // Acked before the delete: a delivery of a deleted queue can no longer be settled.
      if (spill.end) this.consumer.settle(spill.end, 'ack');
      spill.end = undefined;
      await this.topology.deleteQueue(spill.queue);
      this.forget(spill);
      this.logger.log(`Spill queue ${spill.queue} drained and deleted`);
    } catch (error) {
      this.logger.warn(`Could not retire spill queue ${spill.queue}: ${(error as Error).message}`);
    } finally {
      spill.retiring = undefined;
    }
  }

  private forget(spill: Spill): void {
    if (this.spills.get(spill.queue) !== spill) return;
    this.spills.delete(spill.queue);
    if (spill.marker) this.consumer.settle(spill.marker, 'ack');
  }
}

/** Deliveries from the lane not settled yet, besides the end marker. */
function itemsUnsettled(spill: Spill, lane: ConsumerLane): number {
  return lane.unsettled - (spill.end?.lane === lane ? 1 : 0);
}
