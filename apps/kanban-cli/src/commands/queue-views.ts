import { formatAge, renderTable } from '../output';

/** `GET /queues`. */
export interface QueuesView {
  ready: number;
  inFlight: number;
  queues: { broker: string; priority: string; domain: string; ready: number; inFlight: number }[];
  sampledAt: number | null;
  sampleAgeMs: number | null;
}

/** `GET /coordinator/health`, the fields the CLI shows; the server may send more. */
export interface CoordinatorHealth {
  current_workers: number;
  target_workers: number;
  queue_depth_samples: number[];
  queue_draining: boolean;
  timestamp: number;
  broker: { active: string; state: string };
  open_circuit_breakers: number;
}

const PRIORITY_ORDER = ['high', 'normal', 'low'];

/** Depth per (broker, priority, domain): by domain, then high → low, then broker. */
export function queuesTable(view: QueuesView): string {
  const rows = [...view.queues]
    .sort((a, b) => a.domain.localeCompare(b.domain) || PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority) || a.broker.localeCompare(b.broker))
    .map((q) => [q.broker, q.priority, q.domain, String(q.ready), String(q.inFlight)]);
  const table = rows.length
    ? renderTable([{ header: 'BROKER' }, { header: 'PRIORITY' }, { header: 'DOMAIN' }, { header: 'READY', align: 'right' }, { header: 'IN-FLIGHT', align: 'right' }], rows)
    : 'no queues';
  const sample = view.sampleAgeMs === null ? 'no depth sample yet (the coordinator samples every KANBAN_COORDINATOR_CHECK_INTERVAL_MS)' : `sampled ${formatAge(view.sampleAgeMs)} ago`;
  return `${table}\n\nready ${view.ready}, in flight ${view.inFlight}; ${sample}`;
}
