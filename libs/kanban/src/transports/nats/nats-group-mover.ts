import type { Logger } from '@nestjs/common';
import type { Priority } from '../../interfaces/work-item.interface';
import type { LeaseLeadership } from '../../transport/lease-leadership.interface';
import { NATS_GROUP_MOVER_CONCURRENCY, NATS_GROUP_MOVER_INTERVAL_MS } from './nats.constants';
import { jsApiCode, JS_ERR } from './nats-errors';
import type { NatsGroupAdmission } from './nats-group-admission';
import { dropAcknowledgedSlots } from './nats-acknowledged-slots';
import { groupWindow, type NatsGroupClients, type NatsGroupLimits } from './nats-group-limits';
import type { NatsNames } from './nats-names';

export interface NatsGroupMoverContext {
  names: NatsNames;
  admission: NatsGroupAdmission;
  limits: NatsGroupLimits;
  window: number;
  /** One instance of the fleet runs the periodic pass. */
  leadership: LeaseLeadership;
  clients(): NatsGroupClients;
  logger: Logger;
}

/**
 * Brings backlog items into free slots (NatsGroupAdmission.move). Moves are started by the
 * instance that settles a grouped item (its slot just freed), by a publish that went to the
 * backlog, by a rate token falling due, and by a pass every NATS_GROUP_MOVER_INTERVAL_MS over the
 * groups with a backlog, run by the leader of the fleet: a settle at another instance, a lapsed
 * lease or a publish racing an ack never strands an item. One move per group at a time on an
 * instance; a kick during a move runs it once more after.
 */
export class NatsGroupMover {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly dueTimers = new Map<string, NodeJS.Timeout>();
  private passTimer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private started = false;
  private closed = false;
  /** Only the first failure of a streak is logged, not one a pass while NATS is away. */
  private moveFailing = false;
  private passFailing = false;

  constructor(private readonly context: NatsGroupMoverContext) {}

  /** Starts competing for the pass; idempotent. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.context.leadership.start();
    this.schedulePass();
  }

  /** Moves for the group soon; resolves when that move ended (it never rejects: a failed move is logged and the pass tries again). */
  kick(priority: Priority, domain: string, group: string): Promise<void> {
    this.start();
    const key = `${priority}\u0000${domain}\u0000${group}`;
    const current = this.running.get(key);
    if (current) {
      this.again.add(key);
      return current;
    }
    if (this.closed) return Promise.resolve();
    const run = (async () => {
      do {
        this.again.delete(key);
        await this.moveOnce(key, priority, domain, group);
      } while (this.again.has(key) && !this.closed);
    })().finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Stops the pass and the rate timers, waits for the moves in flight, hands the pass over. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.passTimer);
    for (const timer of this.dueTimers.values()) clearTimeout(timer);
    this.dueTimers.clear();
    await this.pass;
    await Promise.all(this.running.values());
    if (this.started) await this.context.leadership.close();
  }

  private async moveOnce(key: string, priority: Priority, domain: string, group: string): Promise<void> {
    try {
      const wait = await this.context.admission.move(priority, domain, group);
      this.moveFailing = false;
      if (wait > 0 && !this.dueTimers.has(key) && !this.closed) {
        const timer = setTimeout(() => {
          this.dueTimers.delete(key);
          void this.kick(priority, domain, group);
        }, wait);
        timer.unref();
        this.dueTimers.set(key, timer);
      }
    } catch (error) {
      if (!this.moveFailing && !this.closed)
        this.context.logger.warn(`group mover: moving the backlog of ${priority}/${domain}/${group} failed (${(error as Error).message}); the next pass tries again`);
      this.moveFailing = true;
    }
  }

  private schedulePass(): void {
    if (this.closed) return;
    this.passTimer = setTimeout(() => {
      this.pass = this.runPass().finally(() => this.schedulePass());
    }, NATS_GROUP_MOVER_INTERVAL_MS);
    this.passTimer.unref();
  }

  /** Kicks every group with a backlog whose slots are not all taken, a few at a time. */
  private async runPass(): Promise<void> {
    if (!this.context.leadership.isLeader()) return;

    try {
      const groups = await this.groupsToMove();
      this.passFailing = false;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < groups.length && !this.closed) {
          const { priority, domain, group } = groups[next++];
          await this.kick(priority, domain, group);
        }
      };
      await Promise.all(Array.from({ length: Math.min(NATS_GROUP_MOVER_CONCURRENCY, groups.length) }, worker));
    } catch (error) {
      if (!this.passFailing && !this.closed) this.context.logger.warn(`group mover: pass failed (${(error as Error).message}); trying again in ${NATS_GROUP_MOVER_INTERVAL_MS} ms`);
      this.passFailing = true;
    }
  }

  /** One stream list, then per queue with a backlog stream one read of its backlog, its slots and its consumer. */
  private async groupsToMove(): Promise<{ priority: Priority; domain: string; group: string }[]> {
    const { jsm } = this.context.clients();
    const { names } = this.context;
    const found: { priority: Priority; domain: string; group: string }[] = [];
    for await (const stream of jsm.streams.names(names.allBacklogSubjects)) {
      const queue = names.parseBacklogStream(stream);
      if (!queue) continue;
      const backlog = await jsm.streams.info(stream, { subjects_filter: names.backlogSubjects(queue.priority, queue.domain) }).catch((error: unknown) => {
        if (jsApiCode(error) === JS_ERR.streamNotFound) return undefined;
        throw error;
      });
      const waiting = Object.keys(backlog?.state.subjects ?? {})
        .map((subject) => names.parseBacklogGroup(subject))
        .filter((group): group is string => group !== undefined);
      const workStream = names.workStream(queue.priority, queue.domain);
      const slotsFilter = names.groupSlotsFilter(queue.priority, queue.domain);
      let work = await jsm.streams.info(workStream, { subjects_filter: slotsFilter });
      const { ack_floor: ackFloor } = await jsm.consumers.info(workStream, names.workConsumer);
      if (work.state.messages > 0 && work.state.first_seq <= ackFloor.stream_seq) {
        await dropAcknowledgedSlots(jsm, workStream, slotsFilter, ackFloor.stream_seq, this.context.logger);
        work = await jsm.streams.info(workStream, { subjects_filter: slotsFilter });
      }
      // Checked with no backlog waiting too: a slot acknowledged before a restart holds its group's window until dropped.
      if (waiting.length === 0) continue;
      const taken = new Map<string, number>();
      for (const subject of Object.keys(work.state.subjects ?? {})) {
        const group = names.parseGroupSlotSubject(subject)?.group;
        if (group) taken.set(group, (taken.get(group) ?? 0) + 1);
      }
      const overrides = await this.context.limits.overrides(queue.domain);
      for (const group of waiting) {
        const window = groupWindow(this.context.limits.resolve(queue.domain, overrides.get(group)).limits, this.context.window);
        if ((taken.get(group) ?? 0) < window) found.push({ ...queue, group });
      }
    }
    return found;
  }
}
