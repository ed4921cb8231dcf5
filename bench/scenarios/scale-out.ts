import { loadavg } from 'node:os';
import type { BenchConfig } from '../bench-config';
import { ownCpuMs, treeCpuMs } from '../brokers/process-cpu';
import { percentile } from '../report/statistics';
import { kanbanHttpFleet, openedFleet, type OpenFleet } from '../systems/kanban-http-fleet';
import type { BenchItem } from '../systems/queue-system';
import { Countdown, publishAll } from './load';
import type { Measurement, Scenario } from './scenario';

/** Items each run passes through the fleet unrecorded first: the servers' JIT and connections warm up. */
const WARM_UP_ITEMS = 100;
/** The acks of a run may take this long per item before it fails: about 10 items/s, far below the slowest layout. */
const ACK_BUDGET_PER_ITEM_MS = 100;
/** Starting a three-node cluster and three servers that compile the library in memory, on a loaded machine. */
const START_BUDGET_MS = 180_000;

/**
 * Scenario 8: 1 vs 3 kanban server processes, on one NATS node vs a three-node cluster with R3
 * streams; a producer POSTs over the servers, HTTP workers pull at one server and ack at a random
 * one. Throughput, CPU per item of every process involved, and publish → ack latency.
 */
export function scaleOutScenario(): Scenario {
  return {
    id: 'scale-out',
    title: '8. Scale-out: 1 vs 3 servers, 1 NATS node vs 3-node cluster',
    describe: (config) =>
      `apps/kanban-server processes on loopback; ${config.scaleOutItems.toLocaleString('en-US')} items POSTed round-robin over the servers (${config.publishConcurrency} in flight) while 10 HTTP workers (fetch loops) each pull 10 at one server and ack each item at a random server (with 3 servers, 2 of 3 acks are relayed to the holder; a publish or ack answered 503 is sent again, up to 5 times, a publish with an idempotency key); CPU per item sums the servers, the nats-server node(s) and the bench process (producer and workers); latency is POST /work called → ack answered, under this full load.`,
    systems: [
      kanbanHttpFleet({ servers: 1, nats: 'single' }),
      kanbanHttpFleet({ servers: 3, nats: 'single' }),
      kanbanHttpFleet({ servers: 1, nats: 'cluster' }),
      kanbanHttpFleet({ servers: 3, nats: 'cluster' }),
    ],
    metrics: [
      { key: 'itemsPerSec', label: 'throughput', unit: 'items/s', higherIsBetter: true },
      { key: 'cpuMsPerItem', label: 'CPU per item, all processes', unit: 'ms', higherIsBetter: false },
      { key: 'serverCpuMsPerItem', label: 'servers', unit: 'ms', higherIsBetter: false },
      { key: 'natsCpuMsPerItem', label: 'NATS', unit: 'ms', higherIsBetter: false },
      { key: 'clientCpuMsPerItem', label: 'producer + workers', unit: 'ms', higherIsBetter: false },
      { key: 'p50Ms', label: 'publish → ack p50', unit: 'ms', higherIsBetter: false },
      { key: 'p99Ms', label: 'publish → ack p99', unit: 'ms', higherIsBetter: false },
      { key: 'retried503', label: 'publishes and acks answered 503, retried', unit: 'requests', higherIsBetter: false },
      { key: 'loadAverage', label: 'load average (1 min) at the end', unit: '', higherIsBetter: false },
    ],
    timeoutMs: (config) => START_BUDGET_MS + 2 * ackTimeoutMs(config, config.scaleOutItems),
    measure: async (system, context) => {
      const { config } = context;
      const fleet = openedFleet(await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() }));
      try {
        let onAcked: (item: BenchItem) => void = () => undefined;
        fleet.startWorkers((item) => onAcked(item));
        const warm = new Countdown(WARM_UP_ITEMS);
        onAcked = () => warm.increment();
        await publishAll(fleet, WARM_UP_ITEMS, config.publishConcurrency);
        await untilAcked(fleet, warm, config, `${system.label}: warm-up acks`);

        const items = config.scaleOutItems;
        const acked = new Countdown(items);
        const latencies: number[] = [];
        onAcked = (item) => {
          latencies.push(performance.now() - item.t);
          acked.increment();
        };
        const retriedBefore = fleet.retried503();
        const before = cpuSample(fleet);
        const started = performance.now();
        await publishAll(fleet, items, config.publishConcurrency);
        const finished = await untilAcked(fleet, acked, config, `${system.label}: acks`);
        const after = cpuSample(fleet);
        latencies.sort((a, b) => a - b);
        return {
          itemsPerSec: items / ((finished - started) / 1_000),
          ...cpuPerItem(before, after, items),
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          retried503: fleet.retried503() - retriedBefore,
          loadAverage: loadavg()[0],
        };
      } finally {
        await fleet.close();
      }
    },
  };
}

interface CpuSample {
  client: number;
  servers?: number;
  nats?: number;
}

function cpuSample(fleet: OpenFleet): CpuSample {
  return { client: ownCpuMs(), servers: treeCpuMs(fleet.serverPids), nats: treeCpuMs(fleet.natsPids) };
}

/** ms of CPU per item by process group, and their sum; only the bench's own where /proc is not there. */
function cpuPerItem(before: CpuSample, after: CpuSample, items: number): Measurement {
  const client = (after.client - before.client) / items;
  if (before.servers === undefined || after.servers === undefined || before.nats === undefined || after.nats === undefined) return { clientCpuMsPerItem: client };
  const servers = (after.servers - before.servers) / items;
  const nats = (after.nats - before.nats) / items;
  return { cpuMsPerItem: client + servers + nats, serverCpuMsPerItem: servers, natsCpuMsPerItem: nats, clientCpuMsPerItem: client };
}

function ackTimeoutMs(config: BenchConfig, items: number): number {
  return Math.max(config.runTimeoutMs, items * ACK_BUDGET_PER_ITEM_MS);
}

/** Waits for the acks; a failed pull or ack fails the run with its answer rather than a bare timeout. */
async function untilAcked(fleet: OpenFleet, acked: Countdown, config: BenchConfig, what: string): Promise<number> {
  try {
    const finished = await acked.reached(ackTimeoutMs(config, acked.target), what);
    if (fleet.problems().length > 0) throw new Error(fleet.problems()[0]);
    return finished;
  } catch (error) {
    const problems = fleet.problems();
    throw problems.length > 0 ? new Error(`${what}: ${problems.length} worker(s) stopped, first: ${problems[0]}`) : error;
  }
}
