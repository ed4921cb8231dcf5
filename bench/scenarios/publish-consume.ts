import type { QueueSystem } from '../systems/queue-system';
import { Countdown, publishAll } from './load';
import type { Scenario } from './scenario';

/** Scenario 2: publishing to an idle queue, then consuming that backlog, each timed on its own. */
export function publishConsumeScenario(systems: QueueSystem[]): Scenario {
  return {
    id: 'publish-consume',
    title: '2. Publish-only and consume-only throughput',
    describe: (config) =>
      `${config.publishConsumeItems.toLocaleString('en-US')} items published with no consumer running (${config.publishConcurrency} publishes in flight), then the consumers start and drain that backlog.`,
    systems,
    metrics: [
      { key: 'publishPerSec', label: 'publish only', unit: 'items/s', higherIsBetter: true },
      { key: 'consumePerSec', label: 'consume only', unit: 'items/s', higherIsBetter: true },
    ],
    measure: async (system, context) => {
      const { config } = context;
      const total = config.publishConsumeItems;
      const open = await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      try {
        const publishStarted = performance.now();
        await publishAll(open, total, config.publishConcurrency);
        const published = performance.now();
        const acked = new Countdown(total);
        const consumeStarted = performance.now();
        await open.startConsumers({ onStart: () => undefined, onAcked: () => acked.increment() });
        const consumed = await acked.reached(config.runTimeoutMs, `${system.label}: acks of the backlog`);
        return {
          publishPerSec: total / ((published - publishStarted) / 1_000),
          consumePerSec: total / ((consumed - consumeStarted) / 1_000),
        };
      } finally {
        await open.close();
      }
    },
  };
}
