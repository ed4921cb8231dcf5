import { ownCpuMs, treeCpuMs } from '../brokers/process-cpu';
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
    metrics: [
      { key: 'itemsPerSec', label: 'end to end', unit: 'items/s', higherIsBetter: true },
      { key: 'clientCpuUsPerItem', label: 'client CPU per item', unit: 'µs', higherIsBetter: false },
      { key: 'brokerCpuUsPerItem', label: 'broker CPU per item', unit: 'µs', higherIsBetter: false },
    ],
    measure: async (system, context) => {
      const { config } = context;
      const open = await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      try {
        const acked = new Countdown(config.endToEndItems);
        await open.startConsumers({ onStart: () => undefined, onAcked: () => acked.increment() });
        const brokerPids = context.brokers.processIds();
        const cpuBefore = { client: ownCpuMs(), broker: treeCpuMs(brokerPids) };
        const started = performance.now();
        await publishAll(open, config.endToEndItems, config.publishConcurrency);
        const finished = await acked.reached(config.runTimeoutMs, `${system.label}: acks`);
        const brokerAfter = treeCpuMs(brokerPids);
        // The 2-CPU machine is the limit: where each system spends its CPU explains its throughput.
        const perItemUs = (ms: number) => (ms * 1_000) / config.endToEndItems;
        return {
          itemsPerSec: config.endToEndItems / ((finished - started) / 1_000),
          clientCpuUsPerItem: perItemUs(ownCpuMs() - cpuBefore.client),
          ...(cpuBefore.broker !== undefined && brokerAfter !== undefined ? { brokerCpuUsPerItem: perItemUs(brokerAfter - cpuBefore.broker) } : {}),
        };
      } finally {
        await open.close();
      }
    },
  };
}
