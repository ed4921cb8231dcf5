import { findSystem, metricSpread, type BenchResults } from './bench-results';
import { formatNumber } from './statistics';

export interface TargetCheck {
  target: string;
  /** What was measured, e.g. `0.42× (8,100 vs 19,300 items/s)`. */
  measured: string;
  /** undefined when a system or scenario did not run. */
  met?: boolean;
}

interface RatioTarget {
  target: string;
  scenario: string;
  metric: string;
  unit: string;
  system: string;
  reference: string;
  /** system / reference must be at least this (higher is better) or at most this (lower is better). */
  atLeast?: number;
  atMost?: number;
}

/** The targets of the benchmark issue, checked on medians of the same run. */
const RATIO_TARGETS: RatioTarget[] = [
  { target: 'kanban/NATS ≥ 0.8× raw JetStream, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-nats', reference: 'raw-jetstream', atLeast: 0.8 },
  { target: 'kanban/NATS (pull 100) ≥ 0.8× raw JetStream, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-nats-tuned', reference: 'raw-jetstream', atLeast: 0.8 },
  { target: 'kanban/NATS ≥ 1.5× BullMQ, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-nats', reference: 'bullmq', atLeast: 1.5 },
  { target: 'kanban/NATS (pull 100) ≥ 1.5× BullMQ, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-nats-tuned', reference: 'bullmq', atLeast: 1.5 },
  { target: 'kanban/RabbitMQ ≥ 0.8× raw amqplib, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-rabbitmq', reference: 'raw-amqplib', atLeast: 0.8 },
  {
    target: 'kanban/RabbitMQ (pull 100) ≥ 0.8× raw amqplib, end to end',
    scenario: 'e2e',
    metric: 'itemsPerSec',
    unit: 'items/s',
    system: 'kanban-rabbitmq-tuned',
    reference: 'raw-amqplib',
    atLeast: 0.8,
  },
  { target: 'kanban/embedded ≥ BullMQ, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-embedded', reference: 'bullmq', atLeast: 1 },
  { target: 'kanban/embedded (pull 100) ≥ BullMQ, end to end', scenario: 'e2e', metric: 'itemsPerSec', unit: 'items/s', system: 'kanban-embedded-tuned', reference: 'bullmq', atLeast: 1 },
  { target: 'kanban/NATS p99 at 2k/s ≤ 2× raw JetStream p99', scenario: 'latency', metric: 'p99Ms', unit: 'ms', system: 'kanban-nats', reference: 'raw-jetstream', atMost: 2 },
  { target: 'kanban/RabbitMQ p99 at 2k/s ≤ 2× raw amqplib p99', scenario: 'latency', metric: 'p99Ms', unit: 'ms', system: 'kanban-rabbitmq', reference: 'raw-amqplib', atMost: 2 },
  { target: '(same at 500/s) kanban/NATS p99 ≤ 2× raw JetStream p99', scenario: 'latency-low', metric: 'p99Ms', unit: 'ms', system: 'kanban-nats', reference: 'raw-jetstream', atMost: 2 },
  { target: '(same at 500/s) kanban/RabbitMQ p99 ≤ 2× raw amqplib p99', scenario: 'latency-low', metric: 'p99Ms', unit: 'ms', system: 'kanban-rabbitmq', reference: 'raw-amqplib', atMost: 2 },
  {
    target: 'kanban/NATS light groups p99 ≤ 1/50 of BullMQ’s (FIFO), fair share',
    scenario: 'fair-share',
    metric: 'lightP99Ms',
    unit: 'ms',
    system: 'kanban-nats',
    reference: 'bullmq',
    atMost: 1 / 50,
  },
  {
    target: 'kanban/RabbitMQ light groups p99 ≤ 1/50 of BullMQ’s (FIFO), fair share',
    scenario: 'fair-share',
    metric: 'lightP99Ms',
    unit: 'ms',
    system: 'kanban-rabbitmq',
    reference: 'bullmq',
    atMost: 1 / 50,
  },
  {
    target: 'kanban/embedded light groups p99 ≤ 1/50 of BullMQ’s (FIFO), fair share',
    scenario: 'fair-share',
    metric: 'lightP99Ms',
    unit: 'ms',
    system: 'kanban-embedded',
    reference: 'bullmq',
    atMost: 1 / 50,
  },
];

interface LimitTarget {
  target: string;
  scenario: string;
  metric: string;
  unit: string;
  system: string;
  atMost: number;
}

const LIMIT_TARGETS: LimitTarget[] = [
  { target: 'kanban/NATS cost per item at the largest size within 1.2× of the smallest (scenario 4)', scenario: 'scale', metric: 'growth', unit: '×', system: 'kanban-nats', atMost: 1.2 },
  { target: 'kanban/NATS RSS < 200 MB with the backlog', scenario: 'memory', metric: 'backlogRssMiB', unit: 'MiB', system: 'kanban-nats', atMost: 200 / 1.048576 },
  { target: 'kanban/RabbitMQ RSS < 200 MB with the backlog', scenario: 'memory', metric: 'backlogRssMiB', unit: 'MiB', system: 'kanban-rabbitmq', atMost: 200 / 1.048576 },
  { target: 'kanban/embedded RSS < 200 MB with the backlog', scenario: 'memory', metric: 'backlogRssMiB', unit: 'MiB', system: 'kanban-embedded', atMost: 200 / 1.048576 },
  { target: 'failover switch (kill -9 of NATS → RabbitMQ) < 2 s', scenario: 'failover', metric: 'switchMs', unit: 'ms', system: 'kanban-failover', atMost: 2_000 },
];

export function checkTargets(results: BenchResults): TargetCheck[] {
  const ratios = RATIO_TARGETS.map((t): TargetCheck => {
    const mine = findSystem(results, t.scenario, t.system);
    const theirs = findSystem(results, t.scenario, t.reference);
    const a = mine && metricSpread(mine, t.metric);
    const b = theirs && metricSpread(theirs, t.metric);
    if (!a || !b)
      return { target: t.target, measured: `not measured (${[mine?.skipped, theirs?.skipped, !mine || !theirs ? 'not in this run' : ''].filter(Boolean).join('; ') || 'no successful run'})` };
    const ratio = a.median / b.median;
    const met = t.atLeast !== undefined ? ratio >= t.atLeast : ratio <= (t.atMost as number);
    return { target: t.target, measured: `${formatRatio(ratio)} (${formatNumber(a.median)} vs ${formatNumber(b.median)} ${t.unit})`, met };
  });
  const limits = LIMIT_TARGETS.map((t): TargetCheck => {
    const system = findSystem(results, t.scenario, t.system);
    const value = system && metricSpread(system, t.metric);
    if (!value) return { target: t.target, measured: `not measured (${system?.skipped ?? system?.errors[0] ?? 'not in this run'})` };
    return { target: t.target, measured: `${formatNumber(value.median)} ${t.unit} (worst ${formatNumber(value.max)})`, met: value.max <= t.atMost };
  });
  return [...ratios, ...limits];
}

/** Two decimals, and as a fraction below 0.1, where two decimals would round a 1/50 target's ratios to 0.00 or 0.01. */
function formatRatio(ratio: number): string {
  return ratio >= 0.1 || ratio <= 0 ? `${ratio.toFixed(2)}×` : `${ratio.toPrecision(2)}× (1/${Math.round(1 / ratio)})`;
}

export function verdict(check: TargetCheck): string {
  return check.met === undefined ? 'not measured' : check.met ? 'met' : 'MISSED';
}
