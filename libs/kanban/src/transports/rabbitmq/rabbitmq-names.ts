import { PRIORITIES, SUBJECT_PREFIX } from '../../kanban.constants';
import type { Priority } from '../../interfaces';

/** Exclusive queue on a spill's publishing connection: gone with that connection, so the spill's holder knows no more items will come. */
export function spillOwnerQueueOf(spillQueue: string): string {
  return `${spillQueue}.owner`;
}

/**
 * Every exchange and queue name kanban uses on RabbitMQ. Routing keys are the subjects
 * `kanban.{priority}.{domain}` on every broker; the optional prefix only separates names.
 */
export class RabbitMqNames {
  /** Direct exchange the work queues are bound to, one binding per subject. */
  readonly workExchange: string;
  /** Fanout exchange the work queues dead-letter into (delivery limit reached after a crash). */
  readonly deadLetterExchange: string;
  /** Quorum queue holding what the broker dead-lettered, until a sweep turns it into records. */
  readonly intakeQueue: string;
  /** Stream (append-only log) of dead letters and of their removals, read by every instance. */
  readonly deadLetterLog: string;
  /** Quorum queue the delay ladder's rungs dead-letter into when their TTL runs out; every instance moves what arrives. */
  readonly delayDueQueue: string;
  /** Quorum queue earlier versions kept dead letters in; what is left there is moved to the log. */
  readonly legacyDeadLetterQueue: string;
  /** Quorum queue with a single active consumer holding the schedule leadership token. */
  readonly scheduleLeaderQueue: string;
  /** Stream of schedule definitions and their removals, folded by every instance. */
  readonly scheduleLog: string;
  /** Stream of fired tick times (with an age limit), folded by every instance. */
  readonly scheduleTickLog: string;
  /** Direct exchange the grouped queues are bound to, by the work subjects: grouped items are published here. */
  readonly groupExchange: string;
  /** Stream of run-time group limits (last record per domain and group wins), folded by every instance. */
  readonly groupLimitsLog: string;
  /** Stream announcing the spill queues of grouped queues (RabbitMqSpillRegistry), with an age limit. */
  readonly groupSpillsLog: string;

  constructor(private readonly prefix = '') {
    this.workExchange = this.name(SUBJECT_PREFIX);
    this.deadLetterExchange = this.name(`${SUBJECT_PREFIX}.dlx`);
    this.intakeQueue = this.name(`${SUBJECT_PREFIX}.dead-letter-intake`);
    this.deadLetterLog = this.name(`${SUBJECT_PREFIX}.dead-letter-log`);
    this.delayDueQueue = this.name(`${SUBJECT_PREFIX}.delay.due`);
    this.legacyDeadLetterQueue = this.name(`${SUBJECT_PREFIX}.dead-letters`);
    this.scheduleLeaderQueue = this.name(`${SUBJECT_PREFIX}.schedule-leader`);
    this.scheduleLog = this.name(`${SUBJECT_PREFIX}.schedules`);
    this.scheduleTickLog = this.name(`${SUBJECT_PREFIX}.schedule-ticks`);
    this.groupExchange = this.name(`${SUBJECT_PREFIX}.groups`);
    this.groupLimitsLog = this.name(`${SUBJECT_PREFIX}.group-limits`);
    this.groupSpillsLog = this.name(`${SUBJECT_PREFIX}.group-spills`);
  }

  /**
   * Quorum queue holding one empty marker per item of (priority, domain) waiting in the delay
   * ladder: its ready count is that queue's delayed items, which the shared ladder cannot tell apart.
   */
  delayTally(priority: Priority, domain: string): string {
    return this.name(`${SUBJECT_PREFIX}.delayed.${priority}.${domain}`);
  }

  /** Rung of the delay ladder whose messages wait `ttlMs`. */
  delayRung(ttlMs: number): string {
    return this.name(`${SUBJECT_PREFIX}.delay.${ttlMs}`);
  }

  routingKey(priority: Priority, domain: string): string {
    return `${SUBJECT_PREFIX}.${priority}.${domain}`;
  }

  workQueue(priority: Priority, domain: string): string {
    return this.queueOf(this.routingKey(priority, domain));
  }

  /** Quorum queue (single active consumer) of the grouped items of (priority, domain): its consumer hands them out fairly. */
  groupQueue(priority: Priority, domain: string): string {
    return this.name(`${SUBJECT_PREFIX}.groups.${priority}.${domain}`);
  }

  /**
   * Quorum queue (single active consumer) of one burst of `group`: `episode` is unique to the
   * publishing instance's burst. The holder of the grouped queue consumes it beside the grouped queue.
   */
  spillQueue(priority: Priority, domain: string, group: string, episode: string): string {
    return `${this.groupQueue(priority, domain)}.spill.${group}.${episode}`;
  }

  /** Where an item of (priority, domain) is published: grouped items to their grouped queue, the others to the work queue. */
  publishTarget(priority: Priority, domain: string, grouped: boolean): { exchange: string; routingKey: string; queue: string } {
    const routingKey = this.routingKey(priority, domain);
    return grouped ? { exchange: this.groupExchange, routingKey, queue: this.groupQueue(priority, domain) } : { exchange: this.workExchange, routingKey, queue: this.queueOf(routingKey) };
  }

  /** The work queue bound to a routing key. */
  queueOf(routingKey: string): string {
    return this.name(routingKey);
  }

  /** Exclusive, auto-deleted queue where the instance `holder` listens for settles relayed to it. */
  relayQueue(holder: string): string {
    return this.name(`${SUBJECT_PREFIX}.relay.${holder}`);
  }

  /** Fanout exchange every instance announces itself on; each reads the fleet from its own queue bound to it. */
  get fleetExchange(): string {
    return this.name(`${SUBJECT_PREFIX}.fleet`);
  }

  /** Exclusive, auto-deleted queue where the instance `id` receives the fleet's announcements. */
  fleetQueue(id: string): string {
    return this.name(`${SUBJECT_PREFIX}.fleet.${id}`);
  }

  /** Exclusive queue whose holder (one connection at a time) is the fleet's coordinator leader. */
  get coordinatorLeaderQueue(): string {
    return this.name(`${SUBJECT_PREFIX}.coordinator-leader`);
  }

  /** Reads (priority, domain) back from a routing key; undefined for anything that is not a kanban subject. */
  parseRoutingKey(routingKey: string): { priority: Priority; domain: string } | undefined {
    const [prefix, priority, domain, ...rest] = routingKey.split('.');
    if (prefix !== SUBJECT_PREFIX || rest.length > 0 || !domain || !PRIORITIES.includes(priority as Priority)) return undefined;
    return { priority: priority as Priority, domain };
  }

  private name(base: string): string {
    return this.prefix ? `${this.prefix}.${base}` : base;
  }
}
