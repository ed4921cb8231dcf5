import type { QueueSystem } from '../systems/queue-system';
import { Countdown, publishAll } from './load';
import type { Scenario } from './scenario';

/** Scenario 1: consumers running while a producer publishes; items/s from the first publish to the last ack. */
export function endToEndScenario(systems: QueueSystem[]): Scenario {
  return {
    id: 'e2e',
    title: '1. End-to-end throughput',
    describe: (config) =>
      `${config.endToEndItems.toLocaleString('en-US')} items published (${config.publishConcurrency} publishes in flight) while the consumers pull, run a no-op handler and ack; items/s from the first publish to the last ack.`,
    systems,
    metrics: [{ key: 'itemsPerSec', label: 'end to end', unit: 'items/s', higherIsBetter: true }],
    measure: async (system, context) => {
      const { config } = context;
      const open = await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      try {
        const acked = new Countdown(config.endToEndItems);
        await open.startConsumers({ onStart: () => undefined, onAcked: () => acked.increment() });
        const started = performance.now();
        await publishAll(open, config.endToEndItems, config.publishConcurrency);
        const finished = await acked.reached(config.runTimeoutMs, `${system.label}: acks`);
        return { itemsPerSec: config.endToEndItems / ((finished - started) / 1_000) };
      } finally {
        await open.close();
      }
    },
  };
}
