import { percentile } from '../report/statistics';
import type { QueueSystem } from '../systems/queue-system';
import { Countdown, publishAtRate } from './load';
import type { Scenario } from './scenario';

/**
 * Scenario 3: a steady rate; time from `publish` called to the handler starting. The rate
 * is 2,000/s; a second, lower rate shows the latency of the path itself where a loaded machine
 * leaves some systems without the capacity for 2,000/s (their latency is then queueing time).
 */
export function latencyScenario(systems: QueueSystem[], ratePerSecond: number, id = 'latency'): Scenario {
  return {
    id,
    title: `3. Latency at ${ratePerSecond.toLocaleString('en-US')} items/s`,
    describe: (config) =>
      `${ratePerSecond.toLocaleString('en-US')} items/s for ${config.latencySeconds} s, published open-loop (the rate holds whatever the system does); latency from the publish call to the start of the handler.`,
    systems,
    metrics: [
      { key: 'p50Ms', label: 'p50', unit: 'ms', higherIsBetter: false },
      { key: 'p99Ms', label: 'p99', unit: 'ms', higherIsBetter: false },
      { key: 'maxMs', label: 'max', unit: 'ms', higherIsBetter: false },
    ],
    measure: async (system, context) => {
      const { config } = context;
      const open = await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      try {
        const latencies: number[] = [];
        const total = ratePerSecond * config.latencySeconds;
        const acked = new Countdown(total);
        await open.startConsumers({ onStart: (item) => latencies.push(performance.now() - item.t), onAcked: () => acked.increment() });
        const { failed, lastError } = await publishAtRate(open, ratePerSecond, config.latencySeconds);
        if (failed > 0) throw new Error(`${failed} of ${total} publishes failed (last: ${lastError})`);
        await acked.reached(config.runTimeoutMs, `${system.label}: acks`);
        latencies.sort((a, b) => a - b);
        return { p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies[latencies.length - 1] };
      } finally {
        await open.close();
      }
    },
  };
}
