import { Logger } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { QueueRef } from '../../libs/kanban/src/interfaces';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsCluster, testNamespace } from '../harness';
import { CLUSTER_START_TIMEOUT_MS, startNatsClusterFleet, type NatsClusterFleet } from './support/nats-cluster-fleet';

const INSTANCES = 3;
/** New queues declared by the whole fleet at once: each a fresh R3 stream and consumer electing their leaders. */
const QUEUES = 8;

/**
 * A fleet starting on a new queue: every instance declares its R3 stream and consumer at the same
 * moment, so some read a consumer another has just created, before its Raft group has a leader.
 */
describe('NATS: a new queue on a three-node cluster, its leaders being elected', () => {
  let running: NatsClusterFleet;
  let fleet: NatsTransport[];

  beforeAll(async () => {
    Logger.overrideLogger(['warn', 'error']);
    await natsCluster().start();
    running = await startNatsClusterFleet(INSTANCES, contractSettings({ leaseMs: 30_000 }));
    fleet = running.instances;
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await running?.stop();
  });

  it('answers every first pull and publish of every instance, while the new consumer elects its leader', async () => {
    // Arrange
    const queues: QueueRef[] = Array.from({ length: QUEUES }, () => ({ priority: 'normal', domain: testNamespace().domain('race') }));

    // Act
    const outcomes = await Promise.allSettled(
      queues.flatMap((queue) => [...fleet.map((transport) => transport.pull(queue, 1, { leaseMs: 30_000, waitMs: 0 })), fleet[0].publish(makeItem({ domain: queue.domain })).then(() => [])]),
    );

    // Assert
    const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as Error).message] : []));
    expect(failures).toEqual([]);
  }, 120_000);

  it('acknowledges a delivery while its consumer elects a new leader', async () => {
    // Arrange
    const [transport] = fleet;
    const queue: QueueRef = { priority: 'normal', domain: testNamespace().domain('stepdown') };
    await transport.publish(makeItem({ domain: queue.domain }));
    const [delivery] = await transport.pull(queue, 1, { leaseMs: 30_000, waitMs: 5_000 });
    const nc = await connect({ servers: natsCluster().urls });

    // Act
    try {
      await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${running.prefix}_NORMAL_${queue.domain}.${running.prefix}_worker`, undefined, { timeout: 5_000 });
      await transport.ack(delivery);
    } finally {
      await nc.close();
    }

    // Assert
    const depth = (await transport.depth()).find((row) => row.domain === queue.domain);
    expect(depth).toMatchObject({ ready: 0, inFlight: 0 });
  }, 60_000);
});
