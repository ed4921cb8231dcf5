import { KanbanCoordinator, PRIORITIES } from '@tps/kanban';
import { openedKanban } from '../systems/kanban-app';
import { benchItem, type QueueSystem } from '../systems/queue-system';
import type { Scenario } from './scenario';

/** Samples taken of each cost; the median is reported. */
const SAMPLES = 5;
const PUBLISH_CONCURRENCY = 100;

/**
 * Scenario 6: many queues with a backlog each; what one depth sample (`KanbanQueue.depth()`, what
 * the coordinator reads every check) and one whole coordinator check cost.
 */
export function manyDomainsScenario(systems: QueueSystem[]): Scenario {
  return {
    id: 'many-domains',
    title: '6. Many domains: cost of the coordinator’s depth sampling',
    describe: (config) =>
      `${config.manyDomains} domains × ${PRIORITIES.length} priorities with ${config.itemsPerQueue} items each (${(config.manyDomains * PRIORITIES.length * config.itemsPerQueue).toLocaleString('en-US')} items), no consumers; median of ${SAMPLES} calls of KanbanQueue.depth() and of KanbanCoordinator.check().`,
    systems,
    metrics: [
      { key: 'depthMs', label: 'one depth sample', unit: 'ms', higherIsBetter: false },
      { key: 'checkMs', label: 'one coordinator check', unit: 'ms', higherIsBetter: false },
      { key: 'queues', label: 'queues reported', unit: 'queues', higherIsBetter: true },
    ],
    runs: () => 1,
    measure: async (system, context) => {
      const { config } = context;
      const kanban = openedKanban(await system.open({ brokers: context.brokers, tempDir: context.tempDir, tag: context.nextTag() }));
      try {
        const tag = kanban.domain;
        const queues = Array.from({ length: config.manyDomains }, (_, d) => PRIORITIES.map((priority) => ({ priority, domain: `${tag}-d${d}` }))).flat();
        const publishes = queues.flatMap((queue) => Array.from({ length: config.itemsPerQueue }, () => queue));
        let next = 0;
        const lane = async (): Promise<void> => {
          while (next < publishes.length) {
            const queue = publishes[next++];
            await kanban.queue.publish({ ...queue, payload: benchItem(next), deadlineMs: 3_600_000 });
          }
        };
        await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
        const coordinator = kanban.app.get(KanbanCoordinator);
        const depthMs: number[] = [];
        const checkMs: number[] = [];
        let reported = 0;
        for (let i = 0; i < SAMPLES; i++) {
          const started = performance.now();
          reported = (await kanban.queue.depth()).filter((q) => q.domain.startsWith(`${tag}-`)).length;
          depthMs.push(performance.now() - started);
          const checkStarted = performance.now();
          await coordinator.check();
          checkMs.push(performance.now() - checkStarted);
        }
        const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
        return { depthMs: median(depthMs), checkMs: median(checkMs), queues: reported };
      } finally {
        await kanban.close();
      }
    },
  };
}
