import { performance } from 'node:perf_hooks';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { KanbanValidationError } from '../../errors';
import type { GroupLimits } from '../../interfaces/group.interface';
import type { TransportSettings } from '../../transport/kanban-transport';
import { domainError, groupError } from '../../validation/validate-publish-request';
import { NATS_GROUP_LIMITS_READ_CONCURRENCY, NATS_GROUP_LIMITS_REFRESH_MS, NATS_GROUP_RATE_MIN_SLOTS, NATS_GROUP_RATE_QUEUED_MS } from './nats.constants';
import { brokerCall, jsApiCode, JS_ERR } from './nats-errors';
import type { NatsNames } from './nats-names';
import type { NatsReplies } from './nats-replies';
import type { NatsTopology } from './nats-topology';
import { groupLimitsInForce, type EffectiveGroupLimits } from '../../groups/group-limits-in-force';

/** The clients the group modules use, checked: throws BrokerUnavailableError when closed or disconnected. */
export interface NatsGroupClients {
  js: JetStreamClient;
  jsm: JetStreamManager;
  replies: NatsReplies;
  topology: NatsTopology;
}

/**
 * Slots a group may hold in its queue: its maxInFlight, else the window option. A rate-limited
 * group holds at most NATS_GROUP_RATE_QUEUED_MS of its rate, and NATS_GROUP_RATE_MIN_SLOTS at
 * least: tokens are taken as items enter slots, so what sits in the queue is handed out at once
 * when workers free up (that must stay a small part of the rate), while a few slots keep the mover
 * from waiting for each item's ack on a slow cluster.
 */
export function groupWindow(limits: GroupLimits, window: number): number {
  const cap = limits.maxInFlight ?? window;
  if (limits.ratePerSecond === undefined) return cap;
  return Math.min(cap, Math.max(NATS_GROUP_RATE_MIN_SLOTS, Math.floor((limits.ratePerSecond * NATS_GROUP_RATE_QUEUED_MS) / 1_000)));
}

interface CachedOverrides {
  readAt: number;
  overrides: Promise<Map<string, GroupLimits>>;
}

/** Throws KanbanValidationError listing what is wrong with a setGroupLimits call. */
function validate(domain: string, group: string, limits: GroupLimits | null): void {
  const errors = [
    { field: 'domain', message: domainError(domain) },
    { field: 'group', message: groupError(group) },
    {
      field: 'maxInFlight',
      message: limits?.maxInFlight === undefined || (Number.isInteger(limits.maxInFlight) && limits.maxInFlight >= 1) ? undefined : 'must be an integer >= 1',
    },
    {
      field: 'ratePerSecond',
      message: limits?.ratePerSecond === undefined || (Number.isFinite(limits.ratePerSecond) && limits.ratePerSecond > 0) ? undefined : 'must be a number > 0',
    },
  ].filter((error): error is { field: string; message: string } => error.message !== undefined);
  if (errors.length > 0) throw new KanbanValidationError(errors);
}

/**
 * Run-time group limits in a last-value stream (one subject per (domain, group)), so every
 * instance applies them. Each instance reads a domain's overrides at most every
 * NATS_GROUP_LIMITS_REFRESH_MS (a change made at another instance applies within that), and at
 * once after it changed one itself. Reading costs one request plus one per override: overrides are
 * meant for the exceptional groups, the options' defaults for the rest.
 */
export class NatsGroupLimits {
  private readonly cache = new Map<string, CachedOverrides>();
  private declared?: Promise<void>;

  constructor(
    private readonly clients: () => NatsGroupClients,
    private readonly names: NatsNames,
    private readonly settings: TransportSettings['groups'],
  ) {}

  /**
   * Stores the override of one group (all priorities); `null` or no field removes it.
   * @throws KanbanValidationError, BrokerUnavailableError
   */
  async set(domain: string, group: string, limits: GroupLimits | null): Promise<void> {
    validate(domain, group, limits);
    const kept: GroupLimits = {
      ...(limits?.maxInFlight !== undefined ? { maxInFlight: limits.maxInFlight } : {}),
      ...(limits?.ratePerSecond !== undefined ? { ratePerSecond: limits.ratePerSecond } : {}),
    };
    const subject = this.names.groupLimitsSubject(domain, group);
    await brokerCall(`storing the limits of group ${domain}/${group}`, async () => {
      const { js, jsm } = this.clients();
      await this.declare();
      // Nothing consumes this stream, so a purge by subject moves no consumer past anything.
      if (Object.keys(kept).length === 0) await jsm.streams.purge(this.names.groupLimitsStream, { filter: subject });
      else await js.publish(subject, JSON.stringify(kept));
    });
    this.cache.delete(domain);
  }

  /** The limits in force for `group`: its override, else the domain's defaults, else the global ones, field by field. */
  async effective(domain: string, group: string): Promise<EffectiveGroupLimits> {
    return this.resolve(domain, (await this.overrides(domain)).get(group));
  }

  resolve(domain: string, override: GroupLimits | undefined): EffectiveGroupLimits {
    return { limits: groupLimitsInForce(this.settings, domain, override), ...(override ? { override } : {}) };
  }

  /** The run-time overrides of a domain's groups, by group. @throws BrokerUnavailableError */
  overrides(domain: string): Promise<Map<string, GroupLimits>> {
    const cached = this.cache.get(domain);
    if (cached && performance.now() - cached.readAt < NATS_GROUP_LIMITS_REFRESH_MS) return cached.overrides;
    const overrides = this.read(domain);
    this.cache.set(domain, { readAt: performance.now(), overrides });
    overrides.catch(() => this.cache.delete(domain));
    return overrides;
  }

  /** Forgets what was read (a reconnect: the server may have lost its store) and whether the stream exists. */
  clear(): void {
    this.cache.clear();
    this.declared = undefined;
  }

  private declare(): Promise<void> {
    this.declared ??= this.clients()
      .topology.ensureGroupLimits()
      .catch((error: unknown) => {
        this.declared = undefined;
        throw error;
      });
    return this.declared;
  }

  private read(domain: string): Promise<Map<string, GroupLimits>> {
    return brokerCall(`reading the group limits of ${domain}`, async () => {
      const { jsm } = this.clients();
      const stream = this.names.groupLimitsStream;
      const info = await jsm.streams.info(stream, { subjects_filter: this.names.groupLimitsSubject(domain) }).catch((error: unknown) => {
        if (jsApiCode(error) === JS_ERR.streamNotFound) return undefined;
        throw error;
      });
      const subjects = Object.keys(info?.state.subjects ?? {});
      const overrides = new Map<string, GroupLimits>();
      let next = 0;
      const reader = async (): Promise<void> => {
        while (next < subjects.length) {
          const subject = subjects[next++];
          const record = await jsm.streams.getMessage(stream, { last_by_subj: subject });
          if (record) overrides.set(this.names.lastToken(subject), record.json<GroupLimits>());
        }
      };
      await Promise.all(Array.from({ length: Math.min(NATS_GROUP_LIMITS_READ_CONCURRENCY, subjects.length) }, reader));
      return overrides;
    });
  }
}
