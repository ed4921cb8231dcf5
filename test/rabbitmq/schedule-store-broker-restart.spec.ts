import type { ScheduleDefinition } from '../../libs/kanban/src/scheduler/schedule-coordination.interface';
import { contractSettings } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { terminate } from '../harness/local-process';
import { relaunchLocalRabbitMq } from '../harness/local-rabbitmq';
import { privateNodeTransports, privateRabbitMqNode } from './support/private-rabbitmq-node';

/** Not used by RabbitMQ's schedule coordination; the hook takes one. */
const LEASE_MS = 1_000;
/** A node restart on a loaded two-core machine: stop, boot, and the transport's reconnect. */
const RESTART_TIMEOUT_MS = 120_000;

/**
 * Schedules stored on RabbitMQ (two streams) outlive the node: stopped and started again, it gives
 * the definitions and last ticks back to an instance that never saw them written.
 */
describe('RabbitMQ schedule store across a restart of the node', () => {
  const node = privateRabbitMqNode();
  const transports = privateNodeTransports(node);

  it(
    'lists the stored schedules and their last ticks after the node restarted',
    async () => {
      // Arrange
      const local = node();
      const prefix = testNamespace().queuePrefix;
      const writer = (await transports.open(prefix, contractSettings())).scheduleCoordination(LEASE_MS).store;
      const kept: ScheduleDefinition = {
        jobId: 'settlement:eu',
        kind: 'interval',
        priority: 'high',
        domain: 'payments',
        intervalMs: 60_000,
        deadlineMs: 30_000,
        payload: { batch: 'eu' },
        whenBusy: 'stretch',
        catchUp: 'all',
      };
      const removed: ScheduleDefinition = { ...kept, jobId: 'settlement:us', payload: { batch: 'us' } };
      await writer.save(kept);
      await writer.save(removed);
      await writer.recordTick(kept.jobId, 1_700_000_040_000);
      await writer.recordTick(kept.jobId, 1_700_000_100_000);
      await writer.remove(removed.jobId);

      // Act
      await terminate(local.pid, RESTART_TIMEOUT_MS);
      local.pid = await relaunchLocalRabbitMq(local);
      const store = (await transports.open(prefix, contractSettings())).scheduleCoordination(LEASE_MS).store;
      const listed = await waitFor(() => store.list(), { timeoutMs: RESTART_TIMEOUT_MS, intervalMs: 200, description: 'the schedule streams to answer after the restart' });

      // Assert
      expect(listed).toEqual([kept]);
      expect(await store.lastTick(kept.jobId)).toBe(1_700_000_100_000);
      expect(await store.lastTick(removed.jobId)).toBeUndefined();
    },
    RESTART_TIMEOUT_MS * 3,
  );
});
