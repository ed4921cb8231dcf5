import { Queue, Worker } from 'bullmq';
import type { BenchItem, QueueSystem } from './queue-system';

/** Jobs one worker runs at once; BullMQ's default is 1, which no one runs no-op work with. */
export const BULLMQ_CONCURRENCY = 100;

/**
 * BullMQ on Redis as its docs set it up: a Queue to add jobs, a Worker with a concurrency, jobs
 * removed on completion. A job counts as acked when the worker reports it completed.
 */
export function bullMq(): QueueSystem {
  return {
    id: 'bullmq',
    label: 'BullMQ',
    unavailable: (brokers) => (brokers.redis ? undefined : `no redis-server: ${brokers.missing.redis}`),
    open: async ({ brokers, tag }) => {
      const connection = { host: brokers.redis!.host, port: brokers.redis!.port, maxRetriesPerRequest: null };
      const name = `bench-${tag}`;
      const queue = new Queue<BenchItem>(name, { connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
      await queue.waitUntilReady();
      let worker: Worker<BenchItem> | undefined;
      return {
        publish: async (item) => {
          await queue.add('item', item);
        },
        startConsumers: async (hooks) => {
          worker = new Worker<BenchItem>(
            name,
            async (job) => {
              hooks.onStart(job.data);
            },
            { connection, concurrency: BULLMQ_CONCURRENCY },
          );
          worker.on('completed', () => hooks.onAcked());
          await worker.waitUntilReady();
        },
        close: async () => {
          await worker?.close();
          await queue.obliterate({ force: true });
          await queue.close();
        },
      };
    },
  };
}
