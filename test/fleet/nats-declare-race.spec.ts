import { Logger } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { QueueRef } from '../../libs/kanban/src/interfaces';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsCluster, testNamespace } from '../harness';
import { CLUSTER_PUBLISH_TIMEOUT_MS, CLUSTER_REPLICAS } from '../cluster/support/cluster-run';

/** Cluster start-up (once per run) with room for a loaded machine. */
const CLUSTER_START_TIMEOUT_MS = 180_000;
const INSTANCES = 3;
/** New queues declared by the whole fleet at once: each a fresh R3 stream and consumer electing their leaders. */
const QUEUES = 8;

/**
 * A fleet starting on a new queue: every instance declares its R3 stream and consumer at the same
 * moment, so some read a consumer another has just created, before its Raft group has a leader.
 */
describe('NATS: a new queue on a three-node cluster, its leaders being elected', () => {
  let fleet: NatsTransport[] = [];
  let prefix = '';

  beforeAll(async () => {
    Logger.overrideLogger(['warn', 'error']);
    await natsCluster().start();
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(fleet.map((transport) => transport.close()));
    const nc = await connect({ servers: natsCluster().urls });
    try {
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    } finally {
      await nc.close();
    }
  });

  it('answers every first pull and publish of every instance, while the new consumer elects its leader', async () => {
    // Arrange
    prefix = testNamespace().streamPrefix;
    const settings = contractSettings({ leaseMs: 30_000 });
    fleet = Array.from(
      { length: INSTANCES },
      () => new NatsTransport({ servers: natsCluster().urls, streamPrefix: prefix, replicas: CLUSTER_REPLICAS, publishTimeoutMs: CLUSTER_PUBLISH_TIMEOUT_MS }, settings),
    );
    for (const transport of fleet) await transport.connect();
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
      await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${prefix}_NORMAL_${queue.domain}.${prefix}_worker`, undefined, { timeout: 5_000 });
      await transport.ack(delivery);
    } finally {
      await nc.close();
    }

    // Assert
    const depth = (await transport.depth()).find((row) => row.domain === queue.domain);
    expect(depth).toMatchObject({ ready: 0, inFlight: 0 });
  }, 60_000);
});
