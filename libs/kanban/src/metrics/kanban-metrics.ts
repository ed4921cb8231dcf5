import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BrokerName, Priority } from '../interfaces/work-item.interface';
import type { DeadLetterReason } from '../interfaces/dead-letter.interface';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { KANBAN_OPTIONS } from '../kanban.constants';
import * as names from './metrics.constants';

type QueueLabels = { priority: Priority; domain: string; broker: BrokerName };

/**
 * The spec's eight metrics, the active broker, and the operational ones (retries, lease expiries,
 * failovers, outbox, handler duration), registered in the injected registry. Labels stay low in
 * cardinality: never an item id, and a group key only in the per-group counters, which exist
 * only with `groups.metrics`.
 */
@Injectable()
export class KanbanMetrics {
  readonly queueDepth: Gauge<'priority' | 'domain' | 'broker'>;
  readonly currentWorkers: Gauge<'priority' | 'domain'>;
  readonly queueDepthAvg: Gauge;
  readonly latencySeconds: Histogram<'priority' | 'domain' | 'broker'>;
  /** The seed's `kanban_latency_ms`, only with the option `latencyMsMetric`. */
  readonly latencyMs?: Histogram<'priority' | 'domain' | 'broker'>;
  readonly published: Counter<'priority' | 'domain' | 'broker'>;
  readonly acked: Counter<'priority' | 'domain' | 'broker'>;
  readonly deadLettered: Counter<'priority' | 'domain' | 'broker' | 'reason'>;
  readonly circuitBreakerOpen: Gauge<'priority' | 'domain' | 'worker'>;
  readonly activeBroker: Gauge<'broker'>;
  /** Stalled sweeps this instance ran: only the fleet's coordinator leader sweeps. */
  readonly stalledSweeps: Counter;
  readonly retries: Counter<'priority' | 'domain' | 'broker'>;
  readonly leaseExpiries: Counter<'priority' | 'domain' | 'broker'>;
  readonly failovers: Counter<'from' | 'to'>;
  readonly outboxItems: Gauge;
  readonly handlerDuration: Histogram<'priority' | 'domain' | 'outcome'>;
  /** Items handed out per group; undefined without `groups.metrics`. */
  readonly groupHandedOut?: Counter<'domain' | 'group'>;
  /** Items acked or dead-lettered per group; undefined without `groups.metrics`. */
  readonly groupCompleted?: Counter<'domain' | 'group' | 'outcome'>;

  constructor(
    @Inject(names.KANBAN_METRICS_REGISTRY) readonly registry: Registry,
    /** Without options nothing per group (`groups.metrics`) and no `kanban_latency_ms` (`latencyMsMetric`) is registered. */
    @Optional() @Inject(KANBAN_OPTIONS) options?: KanbanResolvedOptions,
  ) {
    const registers = [registry];
    this.queueDepth = new Gauge({ name: names.METRIC_QUEUE_DEPTH, help: 'Items waiting or in flight per queue', labelNames: ['priority', 'domain', 'broker'], registers });
    this.currentWorkers = new Gauge({ name: names.METRIC_CURRENT_WORKERS, help: 'Running workers per handler', labelNames: ['priority', 'domain'], registers });
    this.queueDepthAvg = new Gauge({ name: names.METRIC_QUEUE_DEPTH_AVG, help: 'Rolling average of the last 10 total depth samples', registers });
    this.latencySeconds = new Histogram({
      name: names.METRIC_LATENCY_SECONDS,
      help: 'Time from publish to ack',
      labelNames: ['priority', 'domain', 'broker'],
      buckets: names.LATENCY_BUCKETS_SECONDS,
      registers,
    });
    if (options?.latencyMsMetric) {
      this.latencyMs = new Histogram({
        name: names.METRIC_LATENCY_MS,
        help: "Time from publish to ack, in ms (the seed's name; kanban_latency_seconds is the same in seconds)",
        labelNames: ['priority', 'domain', 'broker'],
        buckets: names.LATENCY_BUCKETS_MS,
        registers,
      });
    }
    this.published = new Counter({ name: names.METRIC_PUBLISHED_TOTAL, help: 'Items durably accepted by a broker', labelNames: ['priority', 'domain', 'broker'], registers });
    this.acked = new Counter({ name: names.METRIC_ACKED_TOTAL, help: 'Items acknowledged', labelNames: ['priority', 'domain', 'broker'], registers });
    this.deadLettered = new Counter({ name: names.METRIC_DEAD_LETTERED_TOTAL, help: 'Items moved to the dead-letter queue', labelNames: ['priority', 'domain', 'broker', 'reason'], registers });
    this.circuitBreakerOpen = new Gauge({ name: names.METRIC_CIRCUIT_BREAKER_OPEN, help: '1 while a worker circuit breaker is open', labelNames: ['priority', 'domain', 'worker'], registers });
    this.activeBroker = new Gauge({ name: names.METRIC_ACTIVE_BROKER, help: '1 for the broker that takes publishes now', labelNames: ['broker'], registers });
    this.stalledSweeps = new Counter({ name: names.METRIC_STALLED_SWEEPS_TOTAL, help: "Stalled-item sweeps this instance ran as the fleet's coordinator leader", registers });
    this.retries = new Counter({ name: names.METRIC_RETRIES_TOTAL, help: 'Failed deliveries the queue handed back for another attempt', labelNames: ['priority', 'domain', 'broker'], registers });
    this.leaseExpiries = new Counter({
      name: names.METRIC_LEASE_EXPIRIES_TOTAL,
      help: 'Settles refused because the lease had lapsed (the item went back to the queue)',
      labelNames: ['priority', 'domain', 'broker'],
      registers,
    });
    this.failovers = new Counter({ name: names.METRIC_FAILOVERS_TOTAL, help: 'Changes of the broker taking publishes', labelNames: ['from', 'to'], registers });
    this.outboxItems = new Gauge({ name: names.METRIC_OUTBOX_ITEMS, help: 'Items waiting in the local failover outbox for a broker, at the last depth sample', registers });
    this.handlerDuration = new Histogram({
      name: names.METRIC_HANDLER_DURATION_SECONDS,
      help: 'Run time of @KanbanHandler methods, by how the run ended',
      labelNames: ['priority', 'domain', 'outcome'],
      buckets: names.HANDLER_DURATION_BUCKETS_SECONDS,
      registers,
    });
    if (options?.groups.metrics) {
      this.groupHandedOut = new Counter({ name: names.METRIC_GROUP_HANDED_OUT_TOTAL, help: 'Items handed out, per group', labelNames: ['domain', 'group'], registers });
      this.groupCompleted = new Counter({
        name: names.METRIC_GROUP_COMPLETED_TOTAL,
        help: 'Items acknowledged or dead-lettered, per group',
        labelNames: ['domain', 'group', 'outcome'],
        registers,
      });
    }
  }

  recordPublished(labels: QueueLabels): void {
    this.published.inc(labels);
  }

  recordAcked(labels: QueueLabels, publishedAt: number): void {
    this.acked.inc(labels);
    const elapsedMs = Math.max(0, Date.now() - publishedAt);
    this.latencySeconds.observe(labels, elapsedMs / names.MS_PER_SECOND);
    this.latencyMs?.observe(labels, elapsedMs);
  }

  recordDeadLettered(labels: QueueLabels, reason: DeadLetterReason): void {
    this.deadLettered.inc({ ...labels, reason });
  }

  /** Counts one hand-out of an item of `group` (absent: the default group) when per-group metrics are on. */
  recordGroupHandedOut(domain: string, group: string | undefined): void {
    this.groupHandedOut?.inc({ domain, group: group ?? names.DEFAULT_GROUP_LABEL });
  }

  /** Counts one item of `group` leaving the queue when per-group metrics are on. */
  recordGroupCompleted(domain: string, group: string | undefined, outcome: names.GroupOutcome): void {
    this.groupCompleted?.inc({ domain, group: group ?? names.DEFAULT_GROUP_LABEL, outcome });
  }

  setActiveBroker(active: BrokerName): void {
    this.activeBroker.reset();
    this.activeBroker.set({ broker: active }, 1);
  }
}
