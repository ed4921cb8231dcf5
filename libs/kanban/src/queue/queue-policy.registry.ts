import { KanbanConfigError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import type { Priority } from '../interfaces/work-item.interface';
import { leaseMsFor } from '../kanban-options';

/** What a `@KanbanHandler` sets for its queue, whoever settles its items. */
export interface QueueRule {
  /** `Class.method` of the handler, for errors. */
  handler: string;
  domain: string;
  /** Unset: every priority of the domain. */
  priority?: Priority;
  maxAttempts: number;
  processTimeoutMs: number;
  pullSize: number;
}

/**
 * The retry rule and lease of each queue: a handler's own where one consumes the queue, the
 * module's elsewhere. Built from the handlers' metadata before the transport, so the transport's
 * broker-side limits (NATS max_deliver and ack wait, RabbitMQ delivery limit and prefetch) are
 * raised to the largest of them; a rule added later must fit within those.
 */
export class QueuePolicyRegistry {
  private readonly rules: QueueRule[] = [];
  private readonly ceilings: Pick<KanbanResolvedOptions, 'maxAttempts' | 'workerProcessTimeoutMs' | 'workerPullSize'>;

  /** @throws KanbanConfigError when two handlers claim one queue or disagree on its maxAttempts. */
  constructor(
    private readonly options: KanbanResolvedOptions,
    rules: readonly QueueRule[] = [],
  ) {
    this.ceilings = {
      maxAttempts: Math.max(options.maxAttempts, ...rules.map((r) => r.maxAttempts)),
      workerProcessTimeoutMs: Math.max(options.workerProcessTimeoutMs, ...rules.map((r) => r.processTimeoutMs)),
      workerPullSize: Math.max(options.workerPullSize, ...rules.map((r) => r.pullSize)),
    };
    for (const rule of rules) this.add(rule);
  }

  /** The module's options with the broker-side limits raised to cover every handler's. */
  transportOptions(): KanbanResolvedOptions {
    return { ...this.options, ...this.ceilings };
  }

  /** The largest pull any handler makes. */
  get maxPullSize(): number {
    return this.ceilings.workerPullSize;
  }

  /**
   * Adds a handler's rule (a second add of one handler is ignored).
   * @throws KanbanConfigError on a conflict, or when the rule exceeds what the transport was built for.
   */
  add(rule: QueueRule): void {
    if (this.rules.some((r) => r.handler === rule.handler)) return;
    const fail = (detail: string): never => {
      throw new KanbanConfigError(`@KanbanHandler on ${rule.handler}`, detail);
    };
    for (const other of this.rules.filter((r) => r.domain === rule.domain)) {
      if (other.priority === rule.priority) fail(`${other.handler} consumes the same queue (${rule.priority ?? 'every priority'}, ${rule.domain}): a queue has one handler`);
      const overlaps = other.priority === undefined || rule.priority === undefined;
      if (overlaps && other.maxAttempts !== rule.maxAttempts) {
        fail(`maxAttempts ${rule.maxAttempts} conflicts with ${other.handler} (maxAttempts ${other.maxAttempts}) on domain ${rule.domain}: one queue has one retry rule`);
      }
    }
    if (rule.maxAttempts > this.ceilings.maxAttempts)
      fail(`maxAttempts ${rule.maxAttempts} exceeds the ${this.ceilings.maxAttempts} the transport was built for: declare the handler's class as a provider`);
    if (rule.processTimeoutMs > this.ceilings.workerProcessTimeoutMs)
      fail(`processTimeoutMs ${rule.processTimeoutMs} exceeds the ${this.ceilings.workerProcessTimeoutMs} the transport was built for: declare the handler's class as a provider`);
    if (rule.pullSize > this.ceilings.workerPullSize)
      fail(`pullSize ${rule.pullSize} exceeds the ${this.ceilings.workerPullSize} the transport was built for: declare the handler's class as a provider`);
    this.rules.push(rule);
  }

  /** Deliveries before an item of this queue is dead-lettered as `max_attempts`. */
  maxAttemptsFor(priority: Priority, domain: string): number {
    return this.ruleFor(priority, domain)?.maxAttempts ?? this.options.maxAttempts;
  }

  /** The lease a pull of this queue hands out: the processing timeout of the handler(s) that may take it, plus the grace. */
  leaseMsFor(priority: Priority | undefined, domain: string): number {
    const rules = this.rules.filter((r) => r.domain === domain && (priority === undefined || r.priority === undefined || r.priority === priority));
    if (rules.length === 0) return leaseMsFor(this.options);
    return leaseMsFor({ ...this.options, workerProcessTimeoutMs: Math.max(...rules.map((r) => r.processTimeoutMs)) });
  }

  private ruleFor(priority: Priority, domain: string): QueueRule | undefined {
    return this.rules.find((r) => r.domain === domain && r.priority === priority) ?? this.rules.find((r) => r.domain === domain && r.priority === undefined);
  }
}
