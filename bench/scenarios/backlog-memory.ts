import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QueueSystem } from '../systems/queue-system';
import type { BacklogMemoryJob, BacklogMemoryReport } from './backlog-memory.child';
import type { Scenario } from './scenario';

const run = promisify(execFile);
const CHILD = join(__dirname, 'backlog-memory.child.ts');
const REGISTER = join(__dirname, '..', 'register.js');

/**
 * Scenario 5: resident memory of a kanban process holding a backlog it does not consume, measured
 * in a child process so the bench's own heap (other systems, results) does not count.
 */
export function backlogMemoryScenario(systems: QueueSystem[]): Scenario {
  return {
    id: 'memory',
    title: '5. Memory with a backlog',
    describe: (config) =>
      `A kanban process alone (child process, GC before each reading) publishes ${config.backlogItems.toLocaleString('en-US')} items over ${config.backlogDomains} domains with no consumer; RSS after start and with the backlog held by the broker.`,
    systems,
    metrics: [
      { key: 'idleRssMiB', label: 'RSS after start', unit: 'MiB', higherIsBetter: false },
      { key: 'backlogRssMiB', label: 'RSS with the backlog', unit: 'MiB', higherIsBetter: false },
    ],
    runs: () => 1,
    measure: async (system, context) => {
      const job: BacklogMemoryJob = {
        system: system.id,
        natsUrl: context.brokers.nats?.url,
        rabbitmqUrl: context.brokers.rabbitmq?.url,
        tempDir: context.tempDir,
        tag: context.nextTag(),
        items: context.config.backlogItems,
        domains: context.config.backlogDomains,
      };
      const { stdout } = await run(process.execPath, ['--expose-gc', '-r', REGISTER, CHILD, JSON.stringify(job)], {
        timeout: context.config.runTimeoutMs,
        maxBuffer: 16 * 2 ** 20,
      });
      const report = JSON.parse(stdout.trim().split('\n').pop() as string) as BacklogMemoryReport;
      return { idleRssMiB: report.idleRssMiB, backlogRssMiB: report.backlogRssMiB };
    },
  };
}
