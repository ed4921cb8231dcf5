import type { BenchConfig } from '../bench-config';
import { ownCpuMs, treeCpuMs } from '../brokers/process-cpu';
import { formatNumber, percentile } from '../report/statistics';
import { BULLMQ_CONCURRENCY } from '../systems/bullmq';
import { KANBAN_DEFAULT_TUNING } from '../systems/kanban-app';
import type { QueueSystem } from '../systems/queue-system';
import { Countdown, publishAll } from './load';
import type { Scenario } from './scenario';

const HEAVY_GROUP = 'heavy';
/** Acks may take this long per item before a run fails: 500 items/s, far below every system's drain rate here. */
const BUDGET_PER_ITEM_MS = 2;

/**
 * Scenario 9 (issue #13): one tenant's burst must not hold up the others. A heavy group's backlog
 * is published to an idle queue, the consumers start, and then light groups publish a few items
 * each; the light items' time from publish to handler shows whether they waited behind the burst.
 * Systems without groups (BullMQ's open-source edition) serve them FIFO, behind all of it.
 */
export function fairShareScenario(systems: QueueSystem[]): Scenario {
  return {
    id: 'fair-share',
    title: '9. Fair share: one heavy group, many light ones',
    describe: (config) =>
      `${config.fairShareHeavyItems.toLocaleString('en-US')} items of one group published to an idle queue (${config.publishConcurrency} in flight); then the consumers start (kanban ${KANBAN_DEFAULT_TUNING.workers} workers × pull ${KANBAN_DEFAULT_TUNING.workerPullSize}, BullMQ concurrency ${BULLMQ_CONCURRENCY}; no-op handler) and, once the first heavy item reached the handler, ${config.fairShareLightGroups} light groups publish ${config.fairShareItemsPerLightGroup} items each, interleaved; latency of the light items from the publish call to the start of the handler; heavy items/s from the consumers' start to the last heavy item's handler; CPU of the bench process and the brokers from the first publish to the last ack, per item.`,
    systems,
    metrics: [
      { key: 'lightP50Ms', label: 'light groups p50', unit: 'ms', higherIsBetter: false },
      { key: 'lightP99Ms', label: 'light groups p99', unit: 'ms', higherIsBetter: false },
      { key: 'heavyItemsPerSec', label: 'heavy group', unit: 'items/s', higherIsBetter: true },
      { key: 'clientCpuUsPerItem', label: 'client CPU per item', unit: 'µs', higherIsBetter: false },
      { key: 'brokerCpuUsPerItem', label: 'broker CPU per item', unit: 'µs', higherIsBetter: false },
    ],
    timeoutMs: (config) => 2 * phaseBudgetMs(config),
    measure: async (system, context) => {
      const { config } = context;
      const heavy = config.fairShareHeavyItems;
      const lightGroups = config.fairShareLightGroups;
      const light = lightGroups * config.fairShareItemsPerLightGroup;
      const open = await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() });
      try {
        const brokerPids = context.brokers.processIds();
        const cpuBefore = { client: ownCpuMs(), broker: treeCpuMs(brokerPids) };
        await publishAll(open, heavy, config.publishConcurrency, { groupOf: () => HEAVY_GROUP });

        const lightLatencies: number[] = [];
        let heavyStarted = 0;
        let lastHeavyStart = Number.NaN;
        const acked = new Countdown(heavy + light);
        const consuming = new Countdown(1);
        const consumersStarted = performance.now();
        await open.startConsumers({
          onStart: (item) => {
            if (item.n < heavy) {
              consuming.increment();
              heavyStarted++;
              lastHeavyStart = performance.now();
            } else lightLatencies.push(performance.now() - item.t);
          },
          onAcked: () => acked.increment(),
        });
        // Light items are published once the consumers run (a heavy item reached the handler), so their latency is the wait behind the burst, not the consumers' start.
        await consuming.reached(phaseBudgetMs(config), `${system.label}: first heavy item`);
        await publishAll(open, light, config.publishConcurrency, { first: heavy, groupOf: (n) => `light-${(n - heavy) % lightGroups}` });
        await acked.reached(phaseBudgetMs(config), `${system.label}: acks`).catch((error: unknown) => {
          // A drain too slow for the budget still says what the light groups saw and how far the heavy one got.
          const seen = [...lightLatencies].sort((a, b) => a - b);
          const rate = heavyStarted / ((lastHeavyStart - consumersStarted) / 1_000);
          throw new Error(
            `${(error as Error).message}; by then ${seen.length} of ${light} light items had started (p99 ${formatNumber(percentile(seen, 0.99))} ms), ${heavyStarted} of ${heavy} heavy ones (${formatNumber(rate)}/s)`,
          );
        });

        const brokerAfter = treeCpuMs(brokerPids);
        const perItemUs = (ms: number) => (ms * 1_000) / (heavy + light);
        lightLatencies.sort((a, b) => a - b);
        return {
          lightP50Ms: percentile(lightLatencies, 0.5),
          lightP99Ms: percentile(lightLatencies, 0.99),
          heavyItemsPerSec: heavy / ((lastHeavyStart - consumersStarted) / 1_000),
          clientCpuUsPerItem: perItemUs(ownCpuMs() - cpuBefore.client),
          ...(cpuBefore.broker !== undefined && brokerAfter !== undefined ? { brokerCpuUsPerItem: perItemUs(brokerAfter - cpuBefore.broker) } : {}),
        };
      } finally {
        await open.close();
      }
    },
  };
}

/** Time the publishing of the backlog, and then its drain, may each take. */
function phaseBudgetMs(config: BenchConfig): number {
  const items = config.fairShareHeavyItems + config.fairShareLightGroups * config.fairShareItemsPerLightGroup;
  return Math.max(config.runTimeoutMs, items * BUDGET_PER_ITEM_MS);
}
