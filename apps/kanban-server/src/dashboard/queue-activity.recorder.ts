import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { KANBAN_TRANSPORT, KanbanCoordinator, KanbanEvents, KanbanTransport, type BrokerName, type TransportState } from '@tps/kanban';
import type { Subscription } from 'rxjs';
import { ACTIVITY_WINDOW_MS, BROKER_HISTORY_LENGTH, DEPTH_POLL_INTERVAL_MS, THROUGHPUT_WINDOW_MS } from './dashboard.constants';

const SECOND_MS = 1_000;

export interface DepthPoint {
  /** When the coordinator read the brokers (epoch ms). */
  at: number;
  ready: number;
  inFlight: number;
  /** Ready items per `{priority}:{domain}` across brokers. */
  byQueue: Record<string, number>;
}

export interface BrokerChange {
  at: number;
  state: TransportState;
  active: BrokerName;
}

/** `{priority}:{domain}`, the key the page groups queues by. */
export function queueKey(priority: string, domain: string): string {
  return `${priority}:${domain}`;
}

/**
 * What this instance saw over the last minutes, for the dashboard: the coordinator's depth samples
 * (it reads the brokers; this only keeps its readings), acks per queue and second, and each change
 * of broker state (the failover history). Bounded by time and count; per instance, as its metrics are.
 */
@Injectable()
export class QueueActivityRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly depth: DepthPoint[] = [];
  private readonly ackedPerSecond = new Map<string, Map<number, number>>();
  private readonly brokerChanges: BrokerChange[] = [];
  private readonly subscriptions: Subscription[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly coordinator: KanbanCoordinator,
    private readonly events: KanbanEvents,
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
  ) {}

  onModuleInit(): void {
    this.subscriptions.push(
      this.events.events$.subscribe((event) => {
        if (event.type === 'acked') this.countAck(queueKey(event.priority, event.domain), Date.now());
      }),
      this.transport.status$.subscribe(({ state, active }) => this.recordBroker(state, active)),
    );
    this.timer = setInterval(() => this.recordDepth(), DEPTH_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  get depthHistory(): readonly DepthPoint[] {
    return this.depth;
  }

  get brokerHistory(): readonly BrokerChange[] {
    return this.brokerChanges;
  }

  /** Acks of the queue per minute, over the last THROUGHPUT_WINDOW_MS. */
  ackedPerMinute(key: string, now: number): number {
    const since = Math.floor((now - THROUGHPUT_WINDOW_MS) / SECOND_MS);
    let acked = 0;
    for (const [second, count] of this.ackedPerSecond.get(key) ?? []) if (second > since) acked += count;
    return (acked * 60_000) / THROUGHPUT_WINDOW_MS;
  }

  private countAck(key: string, now: number): void {
    const second = Math.floor(now / SECOND_MS);
    const seconds = this.ackedPerSecond.get(key) ?? new Map<number, number>();
    seconds.set(second, (seconds.get(second) ?? 0) + 1);
    this.ackedPerSecond.set(key, seconds);
  }

  private recordDepth(): void {
    const at = this.coordinator.lastDepthAt;
    const now = Date.now();
    this.forgetBefore(now - ACTIVITY_WINDOW_MS);
    if (at === undefined || at === this.depth.at(-1)?.at) return;
    const byQueue: Record<string, number> = {};
    let ready = 0;
    let inFlight = 0;
    for (const queue of this.coordinator.lastDepth) {
      const key = queueKey(queue.priority, queue.domain);
      byQueue[key] = (byQueue[key] ?? 0) + queue.ready;
      ready += queue.ready;
      inFlight += queue.inFlight;
    }
    this.depth.push({ at, ready, inFlight, byQueue });
  }

  private forgetBefore(cutoff: number): void {
    while (this.depth.length > 0 && this.depth[0].at < cutoff) this.depth.shift();
    const oldestSecond = Math.floor(cutoff / SECOND_MS);
    for (const [key, seconds] of this.ackedPerSecond) {
      for (const second of seconds.keys()) if (second < oldestSecond) seconds.delete(second);
      if (seconds.size === 0) this.ackedPerSecond.delete(key);
    }
  }

  private recordBroker(state: TransportState, active: BrokerName): void {
    const last = this.brokerChanges.at(-1);
    if (last?.state === state && last.active === active) return;
    this.brokerChanges.push({ at: Date.now(), state, active });
    if (this.brokerChanges.length > BROKER_HISTORY_LENGTH) this.brokerChanges.shift();
  }
}
