import type { BenchConfig } from '../bench-config';
import type { QueueSystem } from '../systems/queue-system';
import { endToEndScenario } from './end-to-end';
import type { Measurement, Scenario } from './scenario';

/**
 * Scenario 4: the end-to-end run at growing sizes; cost per item (µs of wall time) should stay
 * flat as the item count grows. One run per size: the largest dominates the bench's time.
 */
export function scaleScenario(systems: QueueSystem[], config: BenchConfig): Scenario {
  const sizes = config.scaleItems;
  const key = (items: number) => `usPerItem${items}`;
  return {
    id: 'scale',
    title: '4. Cost per item as the item count grows',
    describe: () => `The end-to-end run of scenario 1 at ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')} items; µs of wall time per item, and the largest size's cost over the smallest's.`,
    systems,
    metrics: [
      ...sizes.map((items) => ({ key: key(items), label: `${items.toLocaleString('en-US')} items`, unit: 'µs/item', higherIsBetter: false })),
      { key: 'growth', label: 'largest / smallest', unit: '×', higherIsBetter: false },
    ],
    runs: () => 1,
    measure: async (system, context) => {
      const result: Measurement = {};
      for (const items of sizes) {
        const endToEnd = endToEndScenario([system]);
        const { itemsPerSec } = await endToEnd.measure(system, { ...context, config: { ...context.config, endToEndItems: items, runTimeoutMs: Math.max(context.config.runTimeoutMs, items) } });
        result[key(items)] = 1e6 / itemsPerSec;
      }
      result.growth = result[key(sizes[sizes.length - 1])] / result[key(sizes[0])];
      return result;
    },
  };
}
