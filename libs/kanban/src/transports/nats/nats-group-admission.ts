import type { NextMsgRequest, PubAck, SeqMsgRequest, StoredMsg } from '@nats-io/jetstream';
import { QueueFullError } from '../../errors';
import type { Priority } from '../../interfaces/work-item.interface';
import type { TransportSettings } from '../../transport/kanban-transport';
import { NATS_ATTEMPTS_HEADER, NATS_GROUP_SLOT_ATTEMPTS, NATS_QUEUE_FULL_RETRY_AFTER_MS } from './nats.constants';
import type { NatsDeclaredQueues } from './nats-declared-queues';
import { jsApiCode, JS_ERR } from './nats-errors';
import { groupWindow, type NatsGroupClients, type NatsGroupLimits } from './nats-group-limits';
import type { NatsGroupRate } from './nats-group-rate';
import type { NatsNames } from './nats-names';
import { publishToJetStream } from './nats-publish';

/** An item on its way into its queue: a publish, a delayed retry coming back. */
export interface QueueEntry {
  priority: Priority;
  domain: string;
  group?: string;
  data: Uint8Array;
  /** Nats-Msg-Id in whichever stream it enters: the same entry sent twice is stored once. */
  msgId: string;
  /** Kanban's own headers (attempts carried over). */
  headers?: Record<string, string>;
}

/** Where an entry went, and JetStream's PubAck. */
export interface Enqueued {
  stream: string;
  ack: PubAck;
}

/** A group's taken slots in its queue's work stream, and the items that stream holds in all. */
interface Slots {
  taken: Set<number>;
  queued: number;
}

export interface NatsGroupAdmissionContext {
  names: NatsNames;
  settings: TransportSettings;
  limits: NatsGroupLimits;
  rate: NatsGroupRate;
  queues: NatsDeclaredQueues;
  clients(): NatsGroupClients;
  /** An item went to its group's backlog: a slot may have freed meanwhile, so the mover looks. */
  backlogged(priority: Priority, domain: string, group: string): void;
}

/** The free slots below `window`, lowest first, as many as `window` minus the slots taken (slots left above a lowered window count until they drain). */
function freeSlots(taken: Set<number>, window: number): number[] {
  const free: number[] = [];
  for (let slot = 0; slot < window && free.length < window - taken.size; slot++) if (!taken.has(slot)) free.push(slot);
  return free;
}

/**
 * Fair share on JetStream without a coordinator. A grouped item enters its queue's work stream
 * only into a free slot of its group (subject `kanban.{p}.{domain}.{group}.{slot}`, slot below the
 * group's window: its maxInFlight, else the window option), stored only if that subject holds no
 * message (Nats-Expected-Last-Subject-Sequence 0). The shared consumer hands out in stream order,
 * so the queue holds at most a window of each group and a light group's item waits behind at most
 * (busy groups × window) others; maxInFlight holds across the fleet, enforced by the broker. An ack
 * or a dead letter removes the message and frees its slot; a retry keeps it. An item that finds no
 * free slot, no rate token, or older items of its group waiting, goes to the group's backlog, and
 * the mover brings backlog items into free slots oldest first.
 */
export class NatsGroupAdmission {
  constructor(private readonly context: NatsGroupAdmissionContext) {}

  /**
   * Stores the entry: an ungrouped one on its queue's subject, a grouped one in a free slot or
   * its group's backlog. Throws what JetStream answered (the publisher turns it into typed errors).
   * @throws QueueFullError when the queue and its groups' backlog hold maxQueueDepth items.
   */
  async enqueue(entry: QueueEntry): Promise<Enqueued> {
    const { names } = this.context;
    if (entry.group === undefined) {
      const stream = await this.context.queues.declareStream(entry.priority, entry.domain);
      const ack = await publishToJetStream(this.context.clients().replies, {
        subject: names.workSubject(entry.priority, entry.domain),
        data: entry.data,
        msgID: entry.msgId,
        stream,
        headers: entry.headers,
      });
      return { stream, ack };
    }
    const stream = await this.context.queues.declare(entry.priority, entry.domain);
    const group = entry.group;
    const [{ limits }, backlog] = await Promise.all([this.context.limits.effective(entry.domain, group), this.backlogCounts(entry.priority, entry.domain, group)]);
    let slots = await this.slots(stream, entry.priority, entry.domain, group);
    const window = groupWindow(limits, this.context.settings.groups.window);
    const due =
      backlog.ofGroup === 0 && freeSlots(slots.taken, window).length > 0 && (limits.ratePerSecond === undefined || (await this.context.rate.take(entry.domain, group, limits.ratePerSecond)) === 0);
    for (let attempt = 0; due && attempt < NATS_GROUP_SLOT_ATTEMPTS; attempt++) {
      const slot = freeSlots(slots.taken, window)[0];
      if (slot === undefined) break;
      const ack = await this.intoSlot(stream, entry, group, slot);
      if (ack) return { stream, ack };
      slots = await this.slots(stream, entry.priority, entry.domain, group);
    }
    if (slots.queued + backlog.total >= this.context.settings.maxQueueDepth) {
      throw new QueueFullError(names.workSubject(entry.priority, entry.domain), NATS_QUEUE_FULL_RETRY_AFTER_MS, `the queue and its groups' backlog hold ${this.context.settings.maxQueueDepth} items`);
    }
    const backlogStream = await this.context.queues.declareBacklog(entry.priority, entry.domain);
    const ack = await publishToJetStream(this.context.clients().replies, {
      subject: names.backlogSubject(entry.priority, entry.domain, group),
      data: entry.data,
      msgID: entry.msgId,
      stream: backlogStream,
      headers: entry.headers,
    });
    this.context.backlogged(entry.priority, entry.domain, group);
    return { stream: backlogStream, ack };
  }

  /**
   * Moves the group's oldest backlog items into its free slots, each under Nats-Msg-Id
   * `{backlog stream}:{sequence}` and then deleted from the backlog by sequence: two instances
   * moving at once, or a crash between the two steps, store it once within the duplicate window.
   * A group without a rate fills all its free slots per round: the backlog is read oldest first
   * and each item's publish (and, once stored, its delete) is sent without waiting for the one
   * before, so a round costs one round trip per read instead of three per item.
   * @returns 0, or the ms until the group's rate allows the next move.
   */
  async move(priority: Priority, domain: string, group: string): Promise<number> {
    const { names } = this.context;
    const backlogStream = names.backlogStream(priority, domain);
    const backlogSubject = names.backlogSubject(priority, domain, group);
    let oldest = await this.oldest(backlogStream, backlogSubject);
    if (!oldest) return 0;
    const { limits } = await this.context.limits.effective(domain, group);
    const window = groupWindow(limits, this.context.settings.groups.window);
    const stream = await this.context.queues.declare(priority, domain);
    let slots = await this.slots(stream, priority, domain, group);
    const ratePerSecond = limits.ratePerSecond;
    if (ratePerSecond === undefined) {
      while (oldest) {
        const free = freeSlots(slots.taken, window);
        if (free.length === 0) return 0;
        const { filled, lost } = await this.moveRound(stream, backlogStream, backlogSubject, oldest, { priority, domain, group }, free);
        if (lost) slots = await this.slots(stream, priority, domain, group);
        else for (const slot of filled) slots.taken.add(slot);
        // A round that filled the window needs no read of what comes next: the next freed slot kicks another move.
        if (freeSlots(slots.taken, window).length === 0) return 0;
        oldest = await this.oldest(backlogStream, backlogSubject);
      }
      return 0;
    }
    while (oldest) {
      const slot = freeSlots(slots.taken, window)[0];
      if (slot === undefined) return 0;
      const wait = await this.context.rate.take(domain, group, ratePerSecond);
      if (wait > 0) return wait;
      if (!(await this.intoSlot(stream, this.backlogEntry(backlogStream, oldest, { priority, domain, group }), group, slot))) {
        slots = await this.slots(stream, priority, domain, group);
        continue;
      }
      slots.taken.add(slot);
      await this.deleteMoved(backlogStream, oldest.seq);
      oldest = await this.oldest(backlogStream, backlogSubject);
    }
    return 0;
  }

  /**
   * Moves the backlog messages from `first` on, one per slot of `free`, in stream order: each
   * next message is read while the previous one's publish is on its way. Waits for every
   * publish and delete it started, then throws the first failure.
   * @returns the slots that took an item, and whether any was taken by another publish first.
   */
  private async moveRound(
    stream: string,
    backlogStream: string,
    backlogSubject: string,
    first: StoredMsg,
    queue: { priority: Priority; domain: string; group: string },
    free: number[],
  ): Promise<{ filled: number[]; lost: boolean }> {
    const started: Promise<number | undefined>[] = [];
    let readFailed = false;
    let readError: unknown;
    try {
      let message: StoredMsg | null = first;
      for (const slot of free) {
        if (!message) break;
        const moved: StoredMsg = message;
        started.push(
          this.intoSlot(stream, this.backlogEntry(backlogStream, moved, queue), queue.group, slot).then(async (ack) => {
            if (!ack) return undefined;
            await this.deleteMoved(backlogStream, moved.seq);
            return slot;
          }),
        );
        if (started.length < free.length) message = await this.oldest(backlogStream, backlogSubject, moved.seq + 1);
      }
    } catch (error) {
      readFailed = true;
      readError = error;
    }
    // Nothing started is left running unobserved, whatever a read threw.
    const settled = await Promise.allSettled(started);
    if (readFailed) throw readError;
    const filled: number[] = [];
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      if (result.value !== undefined) filled.push(result.value);
    }
    return { filled, lost: filled.length < started.length };
  }

  private backlogEntry(backlogStream: string, message: StoredMsg, queue: { priority: Priority; domain: string; group: string }): QueueEntry {
    const attempts = message.header?.get(NATS_ATTEMPTS_HEADER);
    return { ...queue, data: message.data, msgId: `${backlogStream}:${message.seq}`, headers: attempts ? { [NATS_ATTEMPTS_HEADER]: attempts } : undefined };
  }

  private async deleteMoved(backlogStream: string, seq: number): Promise<void> {
    await this.context
      .clients()
      .jsm.streams.deleteMessage(backlogStream, seq)
      .catch((error: unknown) => {
        // Moved and deleted by another instance meanwhile.
        if (jsApiCode(error) !== JS_ERR.noMessageFound && jsApiCode(error) !== JS_ERR.sequenceNotFound) throw error;
      });
  }

  /** Publishes into `slot` if it is free; undefined when another item took it first. */
  private async intoSlot(stream: string, entry: QueueEntry, group: string, slot: number): Promise<PubAck | undefined> {
    try {
      return await publishToJetStream(this.context.clients().replies, {
        subject: this.context.names.groupSlotSubject(entry.priority, entry.domain, group, slot),
        data: entry.data,
        msgID: entry.msgId,
        stream,
        headers: entry.headers,
        expectLastSubjectSequence: 0,
      });
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.wrongLastSequence) return undefined;
      throw error;
    }
  }

  private async slots(stream: string, priority: Priority, domain: string, group: string): Promise<Slots> {
    const info = await this.context.clients().jsm.streams.info(stream, { subjects_filter: this.context.names.groupSlotsFilter(priority, domain, group) });
    const taken = new Set(Object.keys(info.state.subjects ?? {}).map((subject) => this.context.names.parseGroupSlotSubject(subject)?.slot ?? -1));
    taken.delete(-1);
    return { taken, queued: info.state.messages };
  }

  /** Items in the queue's backlog, in all and of `group`; none while the backlog stream does not exist. */
  private async backlogCounts(priority: Priority, domain: string, group: string): Promise<{ total: number; ofGroup: number }> {
    const subject = this.context.names.backlogSubject(priority, domain, group);
    try {
      const info = await this.context.clients().jsm.streams.info(this.context.names.backlogStream(priority, domain), { subjects_filter: subject });
      return { total: info.state.messages, ofGroup: info.state.subjects?.[subject] ?? 0 };
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.streamNotFound) return { total: 0, ofGroup: 0 };
      throw error;
    }
  }

  /** The backlog's first message on `subject` at or after sequence `from`. */
  private async oldest(backlogStream: string, subject: string, from = 0): Promise<StoredMsg | null> {
    // STREAM.MSG.GET takes next_by_subj since nats-server 2.9; nats.js types only its direct-get form.
    const query: NextMsgRequest & SeqMsgRequest = { next_by_subj: subject, seq: from };
    try {
      return await this.context.clients().jsm.streams.getMessage(backlogStream, query);
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.streamNotFound) return null;
      throw error;
    }
  }
}
