import { PRIORITIES, SUBJECT_PREFIX } from '../../kanban.constants';
import type { Priority } from '../../interfaces/work-item.interface';

/** Stream and consumer names and subjects for one stream prefix; the only place they are spelled. */
export class NatsNames {
  /** Root of kanban's own subjects (dead letters, idempotency, advisories): the prefix in lower case. */
  private readonly root: string;

  constructor(readonly prefix: string) {
    this.root = prefix.toLowerCase();
  }

  /** Work subject, the same for every deployment: `kanban.{priority}.{domain}`. */
  workSubject(priority: Priority, domain: string): string {
    return `${SUBJECT_PREFIX}.${priority}.${domain}`;
  }

  /** A grouped item's subject: one of its group's `window` slots, each holding at most one item (see nats-group-admission.ts). */
  groupSlotSubject(priority: Priority, domain: string, group: string, slot: number): string {
    return `${SUBJECT_PREFIX}.${priority}.${domain}.${group}.${slot}`;
  }

  /** The slots of `group` of a queue, or of every group when it is left out. */
  groupSlotsFilter(priority: Priority, domain: string, group?: string): string {
    return `${SUBJECT_PREFIX}.${priority}.${domain}.${group ?? '*'}.*`;
  }

  /** The group and slot a slot subject names. */
  parseGroupSlotSubject(subject: string): { group: string; slot: number } | undefined {
    const [, , , group, slot, ...rest] = subject.split('.');
    return group && slot !== undefined && rest.length === 0 ? { group, slot: Number(slot) } : undefined;
  }

  /** One work-queue stream per (priority, domain): its limits are that queue's limits. */
  workStream(priority: Priority, domain: string): string {
    return `${this.prefix}_${priority.toUpperCase()}_${domain}`;
  }

  /** The durable pull consumer every instance shares on each work stream. */
  get workConsumer(): string {
    return `${this.prefix}_worker`;
  }

  get deadLetterStream(): string {
    return `${this.prefix}_DLQ`;
  }

  get deadLetterSubjects(): string {
    return `${this.root}.dlq.>`;
  }

  /** One subject per dead letter, so one can be fetched or purged by id. */
  deadLetterSubject(domain: string, id: string): string {
    return `${this.root}.dlq.${domain}.${id}`;
  }

  deadLetterFilter(domain?: string, id?: string): string {
    return `${this.root}.dlq.${domain ?? '*'}.${id ?? '*'}`;
  }

  get idempotencyStream(): string {
    return `${this.prefix}_IDEMPOTENCY`;
  }

  get idempotencySubjects(): string {
    return `${this.root}.idempotency.>`;
  }

  /** `keyHash` is a hex digest: idempotency keys may hold '.', '*' or '>'. */
  idempotencySubject(priority: Priority, domain: string, keyHash: string): string {
    return `${this.root}.idempotency.${priority}.${domain}.${keyHash}`;
  }

  /** Items retried with a long delay wait here, outside their queue's in-flight window, until due. */
  get delayStream(): string {
    return `${this.prefix}_DELAYED`;
  }

  get delaySubjects(): string {
    return `${this.root}.delayed.>`;
  }

  delaySubject(priority: Priority, domain: string): string {
    return `${this.root}.delayed.${priority}.${domain}`;
  }

  /** Parses a delay subject back to its queue. */
  parseDelaySubject(subject: string): { priority: Priority; domain: string } | undefined {
    const [root, kind, priority, domain, ...rest] = subject.split('.');
    if (root !== this.root || kind !== 'delayed' || rest.length > 0 || !domain || !(PRIORITIES as readonly string[]).includes(priority)) return undefined;
    return { priority: priority as Priority, domain };
  }

  /** The durable consumer every instance shares on the delay stream: it moves due items back. */
  get delayConsumer(): string {
    return `${this.prefix}_delayer`;
  }

  /** Captures JetStream's max-deliveries advisories for kanban's consumers, so none is missed while no instance listens. */
  get advisoryStream(): string {
    return `${this.prefix}_ADVISORIES`;
  }

  get advisorySubject(): string {
    return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.*.${this.workConsumer}`;
  }

  get advisoryConsumer(): string {
    return `${this.prefix}_sweeper`;
  }

  /** Where the instance `holder` listens for settles relayed to it (core NATS, no stream). */
  relaySubject(holder: string): string {
    return `${this.root}.relay.${holder}`;
  }

  /** Root of the reply subjects of relayed settles: under the prefix, so the documented permissions cover the answers. */
  get relayReplyRoot(): string {
    return `${this.root}.relay-reply`;
  }

  /** Streams of this prefix whose name is a work stream, parsed back to their queue (a domain is lower case, so a backlog stream is not one). */
  parseWorkStream(stream: string): { priority: Priority; domain: string } | undefined {
    const match = new RegExp(`^${this.prefix}_(HIGH|NORMAL|LOW)_([a-z][a-z0-9_-]*)$`).exec(stream);
    return match ? { priority: match[1].toLowerCase() as Priority, domain: match[2] } : undefined;
  }

  /** Grouped items of a queue that found no free slot wait here, one subject per group, oldest first. */
  backlogStream(priority: Priority, domain: string): string {
    return `${this.workStream(priority, domain)}_BACKLOG`;
  }

  backlogSubjects(priority: Priority, domain: string): string {
    return `${this.root}.backlog.${priority}.${domain}.*`;
  }

  backlogSubject(priority: Priority, domain: string, group: string): string {
    return `${this.root}.backlog.${priority}.${domain}.${group}`;
  }

  /** Every backlog subject of this prefix: how the streams holding a backlog are found. */
  get allBacklogSubjects(): string {
    return `${this.root}.backlog.>`;
  }

  parseBacklogStream(stream: string): { priority: Priority; domain: string } | undefined {
    const match = new RegExp(`^${this.prefix}_(HIGH|NORMAL|LOW)_([a-z][a-z0-9_-]*)_BACKLOG$`).exec(stream);
    return match ? { priority: match[1].toLowerCase() as Priority, domain: match[2] } : undefined;
  }

  /** The group a backlog subject names. */
  parseBacklogGroup(subject: string): string | undefined {
    const [root, kind, , , group, ...rest] = subject.split('.');
    return root === this.root && kind === 'backlog' && group && rest.length === 0 ? group : undefined;
  }

  /** Run-time group limits: one last-value subject per (domain, group). */
  get groupLimitsStream(): string {
    return `${this.prefix}_GROUP_LIMITS`;
  }

  get groupLimitsSubjects(): string {
    return `${this.root}.group-limits.>`;
  }

  groupLimitsSubject(domain: string, group?: string): string {
    return `${this.root}.group-limits.${domain}.${group ?? '*'}`;
  }

  /** Each rate-limited group's next due time (GCRA), one last-value subject per (domain, group). */
  get groupRateStream(): string {
    return `${this.prefix}_GROUP_RATE`;
  }

  get groupRateSubjects(): string {
    return `${this.root}.group-rate.>`;
  }

  groupRateSubject(domain: string, group: string): string {
    return `${this.root}.group-rate.${domain}.${group}`;
  }

  /** The last token of a subject: the group of a limits or rate subject. */
  lastToken(subject: string): string {
    return subject.slice(subject.lastIndexOf('.') + 1);
  }
}
