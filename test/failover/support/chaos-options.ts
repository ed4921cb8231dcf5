import type { KanbanModuleOptions } from '../../../libs/kanban/src';

/**
 * Short timeouts so that what a fault strands comes back within a test: a lease of 4 s (process
 * timeout + grace), a stall limit of 20 s, a coordinator round every second. Shared by in-process
 * apps and the server child process.
 */
export const CHAOS_MODULE_OPTIONS: KanbanModuleOptions = {
  workerPullSize: 10,
  minWorkers: 4,
  maxWorkers: 4,
  autoscale: false,
  workerProcessTimeoutMs: 2_000,
  deadLetterTimeoutMs: 20_000,
  coordinatorCheckIntervalMs: 1_000,
  maxAttempts: 5,
  retryBackoffMs: [100],
};
