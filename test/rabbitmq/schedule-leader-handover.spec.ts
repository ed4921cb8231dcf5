import type { ScheduleLeadership } from '../../libs/kanban/src/scheduler/schedule-coordination.interface';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { contractSettings, eventually } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

const INSTANCES = 3;
/** Not used by RabbitMQ's leadership (the broker decides by the holder's connection); the hook takes one. */
const LEASE_MS = 1_000;

/**
 * Schedule leadership on RabbitMQ is the token of a quorum queue with a single active consumer:
 * these check what RabbitMQ 3.10 does with it, on the broker's own state.
 */
describe('RabbitMQ schedule leadership (single active consumer)', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  /** Tokens waiting in the leadership queue, as the broker counts them (its consumer count shows only the active consumer). */
  async function waitingTokens(transport: RabbitMqTransport): Promise<number> {
    const channel = await (await harness.admin()).createChannel();
    try {
      return (await channel.checkQueue(harness.namesOf(transport).scheduleLeaderQueue)).messageCount;
    } finally {
      await channel.close();
    }
  }

  it('makes exactly one of three consuming instances the leader, and hands over to the next as each leader closes', async () => {
    // Arrange
    const first = await harness.create(contractSettings());
    const peers = Array.from({ length: INSTANCES - 1 }, () => harness.sibling(first, contractSettings()));
    await Promise.all(peers.map((peer) => peer.connect()));
    const transports = [first, ...peers];
    const leaderships: ScheduleLeadership[] = transports.map((transport) => transport.scheduleCoordination(LEASE_MS).leadership);
    leaderships.forEach((leadership) => leadership.start());

    // Act
    const leaders: ScheduleLeadership[] = [];
    const leadersAtOnce: number[] = [];
    for (let round = 0; round < INSTANCES; round++) {
      const leader = await eventually('the next leader', async () => leaderships.find((leadership) => !leaders.includes(leadership) && leadership.isLeader()));
      leadersAtOnce.push(leaderships.filter((leadership) => leadership.isLeader()).length);
      leaders.push(leader);
      if (round < INSTANCES - 1) await leader.close();
    }
    const waiting = await waitingTokens(first);

    // Assert
    expect(leadersAtOnce).toEqual([1, 1, 1]);
    expect(new Set(leaders).size).toBe(INSTANCES);
    expect(leaders.map((leader) => leader.epoch)).toEqual([1, 1, 1]);
    expect(leaders.slice(0, -1).some((leader) => leader.isLeader())).toBe(false);
    // Every instance offered tokens; the queue keeps at most one waiting past its limit of one, whatever the number offered.
    expect(waiting).toBeLessThanOrEqual(2);
  });
});
