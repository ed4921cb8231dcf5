import type { GroupLimits } from '../../interfaces/group.interface';
import type { ConsumedMessage, RabbitMqQueueConsumer } from './rabbitmq-queue-consumer';

/** The work queue's items (no group) take part in the round robin as this group; no group name is empty. */
export const RABBITMQ_DEFAULT_GROUP = '';

/** A group's place in one take's round robin; the work queue's items have no indices. */
interface Turn {
  group: string;
  indices?: number[];
  room: number;
  servedAt: number;
  first: number;
}

/** What one fair take handed out, and when a rate-limited group's next item is due if one waits for it. */
export interface FairTake {
  taken: ConsumedMessage[];
  /** Ms until the earliest rate-limited group with buffered items may hand out again. */
  retryInMs?: number;
}

/**
 * Fair hand-out of one (priority, domain) at the instance whose consumer of the grouped queue is
 * the active one (single active consumer: it alone holds the queue's deliveries, so what it counts
 * is what the fleet holds). Round robin over the groups with buffered items, the group served
 * longest ago first and its oldest item (a redelivered one before the rest); the work queue's items
 * take part as the default group, without limits. A group at its maxInFlight (buffered items do
 * not count, leased ones do) or whose rate token is not due yet is skipped. Rate: GCRA with a
 * burst of one per group, local and exact, since no other instance hands the group out.
 */
export class RabbitMqGroupHandOut {
  private served = 0;
  private readonly servedAt = new Map<string, number>();
  /** performance.now() from which each rate-limited group's next token is due. */
  private readonly dueAt = new Map<string, number>();

  constructor(private readonly limitsOf: (group: string) => GroupLimits) {}

  /** Up to `max` deliveries from the work queue's buffer and the grouped queue's, in hand-out order. */
  take(work: RabbitMqQueueConsumer, grouped: RabbitMqQueueConsumer, max: number): FairTake {
    const byGroup = new Map<string, number[]>();
    grouped.bufferedView.forEach((delivery, index) => {
      const group = delivery.group ?? RABBITMQ_DEFAULT_GROUP;
      let indices = byGroup.get(group);
      if (!indices) byGroup.set(group, (indices = []));
      if (delivery.message.fields.redelivered) indices.unshift(index);
      else indices.push(index);
    });
    const now = performance.now();
    let retryInMs: number | undefined;
    // Candidates in serving order: served longest ago first, then the oldest item first. Serving
    // one gives it the newest serve, so it goes to the back and the order stays sorted.
    const turns: Turn[] = [];
    for (const [group, indices] of byGroup) {
      const { maxInFlight } = this.limitsOf(group);
      const room = maxInFlight === undefined ? indices.length : Math.min(indices.length, maxInFlight - (grouped.unsettledOf(group) - indices.length));
      if (room <= 0) continue;
      const wait = this.tokenWait(group, now);
      if (wait > 0) {
        retryInMs = Math.min(retryInMs ?? wait, wait);
        continue;
      }
      turns.push({ group, indices, room, servedAt: this.servedAt.get(group) ?? Number.NEGATIVE_INFINITY, first: indices[0] });
    }
    if (work.buffered > 0) turns.push({ group: RABBITMQ_DEFAULT_GROUP, room: work.buffered, servedAt: this.servedAt.get(RABBITMQ_DEFAULT_GROUP) ?? Number.NEGATIVE_INFINITY, first: -1 });
    turns.sort((a, b) => a.servedAt - b.servedAt || a.first - b.first);
    const order: Array<number | undefined> = [];
    for (let head = 0; head < turns.length && order.length < max; head++) {
      const turn = turns[head];
      this.servedAt.set(turn.group, ++this.served);
      turn.room--;
      order.push(turn.indices?.shift());
      if (turn.indices) this.spendToken(turn.group, now);
      // A rate-limited group's next token is at least one interval away.
      if (turn.room > 0 && (turn.indices === undefined || this.limitsOf(turn.group).ratePerSecond === undefined)) turns.push(turn);
    }
    const fromGroups = grouped.takeChosen(order.filter((index): index is number => index !== undefined));
    const fromQueue = work.take(order.filter((index) => index === undefined).length);
    const taken = order.map((index) => (index === undefined ? fromQueue.shift() : fromGroups.shift())).filter((delivery): delivery is ConsumedMessage => delivery !== undefined);
    this.forgetIdle(byGroup);
    return { taken, ...(retryInMs !== undefined && taken.length < max ? { retryInMs } : {}) };
  }

  /** Ms until the group's next rate token; 0 when due or without a rate. */
  private tokenWait(group: string, now: number): number {
    const due = this.dueAt.get(group);
    if (due === undefined || this.limitsOf(group).ratePerSecond === undefined) return 0;
    return Math.max(0, Math.ceil(due - now));
  }

  /** A token taken late by less than one interval keeps the schedule, so pull timing does not lower the rate. */
  private spendToken(group: string, now: number): void {
    const rate = this.limitsOf(group).ratePerSecond;
    if (rate === undefined) return;
    const intervalMs = 1_000 / rate;
    const due = this.dueAt.get(group) ?? now;
    this.dueAt.set(group, (now - due <= intervalMs ? due : now) + intervalMs);
  }

  /** Groups with nothing buffered whose token is due again need no state: memory follows the groups in flight. */
  private forgetIdle(byGroup: Map<string, number[]>): void {
    if (this.servedAt.size <= byGroup.size * 2 + 1) return;
    const now = performance.now();
    for (const group of this.servedAt.keys()) {
      if (byGroup.get(group)?.length) continue;
      if ((this.dueAt.get(group) ?? 0) > now) continue;
      this.servedAt.delete(group);
      this.dueAt.delete(group);
    }
  }
}
