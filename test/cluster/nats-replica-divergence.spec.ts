import { jetstreamManager, jetstream, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node';
import type { KanbanModuleOptions } from '../../libs/kanban/src';
import { NatsNames } from '../../libs/kanban/src/transports/nats/nats-names';
import { createKanbanTestApp, type KanbanTestApp } from '../library/support/kanban-test-app';
import { natsCluster, testNamespace, waitFor } from '../harness';
import { signalGroup } from '../harness/local-process';

const CLUSTER_TEST_TIMEOUT_MS = 180_000;
/** A publish the old leader cannot commit: no PubAck comes while its followers are down. */
const UNCOMMITTED_PUBLISH_TIMEOUT_MS = 2_000;
const STALE_MESSAGES = 5;

describe('R3 stream on nats-server 2.9: kill -9 of both followers under publishes, the majority restarted without the old leader', () => {
  beforeAll(() => natsCluster().start(), CLUSTER_TEST_TIMEOUT_MS);

  afterEach(async () => {
    for (const node of natsCluster().nodes) signalGroup(node.local.pid, 'SIGCONT');
    const stopped = natsCluster().nodes.filter((node) => !natsCluster().isRunning(node.name));
    await Promise.all(stopped.map((node) => natsCluster().restart(node.name)));
  }, CLUSTER_TEST_TIMEOUT_MS);

  it(
    'raw JetStream, no kanban: on 2.9 the old leader keeps the publishes it never acknowledged at the sequences the new leader acknowledged for others',
    async () => {
      // Arrange
      const namespace = testNamespace();
      const stream = `DIVERGE_${namespace.streamPrefix}`;
      const subject = `diverge.${namespace.streamPrefix.toLowerCase()}`;
      const all = await connectNats({ servers: natsCluster().urls });
      const jsm = await jetstreamManager(all);
      await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: 3 });
      for (let i = 1; i <= 3; i++) await jetstream(all).publish(subject, `before-${i}`);
      const oldLeader = await leaderOf(jsm, stream);
      const followers = natsCluster()
        .nodes.filter((node) => node.name !== oldLeader)
        .map((node) => node.name);
      const serverVersion = all.info?.version ?? '';
      await all.close();
      const toOldLeader = await connectNats({ servers: [natsCluster().node(oldLeader).url], maxReconnectAttempts: 0 });
      const unacknowledged: string[] = [];
      let toFollowers: NatsConnection | undefined;
      try {
        // Act
        for (const name of followers) await natsCluster().kill9(name);
        await Promise.all(
          Array.from({ length: STALE_MESSAGES }, (_, i) =>
            jetstream(toOldLeader, { timeout: UNCOMMITTED_PUBLISH_TIMEOUT_MS })
              .publish(subject, `unacknowledged-${i + 1}`)
              .catch(() => unacknowledged.push(`unacknowledged-${i + 1}`)),
          ),
        );
        await toOldLeader.close();
        signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGSTOP');
        await Promise.all(followers.map((name) => natsCluster().restart(name)));
        toFollowers = await connectNats({ servers: followers.map((name) => natsCluster().node(name).url) });
        const followerJs = jetstream(toFollowers, { timeout: 5_000 });
        const acknowledged: { seq: number; body: string }[] = [];
        for (let i = 1; i <= STALE_MESSAGES; i++) {
          const body = `acknowledged-${i}`;
          const ack = await waitFor(() => followerJs.publish(subject, body, { msgID: body }), { timeoutMs: 60_000, description: `PubAck of ${body} from the restarted majority` });
          acknowledged.push({ seq: ack.seq, body });
        }
        signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGCONT');
        const followerJsm = await jetstreamManager(toFollowers);
        await moveLeader(toFollowers, `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, async () => (await followerJsm.streams.info(stream)).cluster?.leader, oldLeader);
        const readFromOldLeader = await Promise.all(acknowledged.map(async ({ seq }) => (await followerJsm.streams.getMessage(stream, { seq }))?.string()));

        // Assert
        expect(unacknowledged.sort()).toEqual(Array.from({ length: STALE_MESSAGES }, (_, i) => `unacknowledged-${i + 1}`));
        // The defect kanban works around (NatsConsumerAlignment); a server that keeps its replicas consistent reads back what it acknowledged.
        const expected = serverVersion.startsWith('2.9.') ? unacknowledged : acknowledged.map(({ body }) => body);
        expect(readFromOldLeader).toEqual(expected);
      } finally {
        signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGCONT');
        await toFollowers?.close();
        await toOldLeader.close();
      }
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'kanban: every item the restarted majority acknowledged is delivered, though the old leader holds unacknowledged items at their sequences and takes over the consumer after the queue was declared',
    async () => {
      await expectAcknowledgedDelivered(async (worker) => {
        await worker.queue.depth();
      });
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'kanban: every item the restarted majority acknowledged is delivered when the consumer led from the old leader hands out its copies at once, before anything aligns it',
    async () => {
      await expectAcknowledgedDelivered(async () => undefined);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

/**
 * Diverges an R3 work queue (the old leader holds refused items at the sequences the restarted
 * majority gave to acknowledged ones), moves its consumer's leadership to the old leader after a
 * worker declared the queue, runs `beforePull` on that worker, then drains the queue through it.
 */
async function expectAcknowledgedDelivered(beforePull: (worker: KanbanTestApp) => Promise<void>): Promise<void> {
  // Arrange
  const namespace = testNamespace();
  const domain = namespace.domain('diverge');
  const stream = new NatsNames(namespace.streamPrefix).workStream('normal', domain);
  const nats = (servers: string[]): KanbanModuleOptions => ({ nats: { servers, streamPrefix: namespace.streamPrefix, replicas: 3, publishTimeoutMs: UNCOMMITTED_PUBLISH_TIMEOUT_MS } });
  const publish = (app: KanbanTestApp, key: string) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 });
  const admin = await connectNats({ servers: natsCluster().urls });
  const jsm = await jetstreamManager(admin);
  const apps: KanbanTestApp[] = [];
  const start = async (servers: string[]) => {
    const app = await createKanbanTestApp({ transport: 'nats', options: nats(servers) });
    apps.push(app);
    return app;
  };
  let oldLeader = '';
  try {
    const first = await start(natsCluster().urls);
    await publish(first, 'before');
    oldLeader = await leaderOf(jsm, stream);
    const followers = natsCluster()
      .nodes.filter((node) => node.name !== oldLeader)
      .map((node) => node.name);
    const toOldLeader = await start([natsCluster().node(oldLeader).url]);
    await publish(toOldLeader, 'before-on-old-leader');
    for (const name of followers) await natsCluster().kill9(name);
    const unacknowledged = await Promise.all(
      Array.from({ length: STALE_MESSAGES }, (_, i) =>
        publish(toOldLeader, `unacknowledged-${i + 1}`).then(
          () => 'acknowledged',
          () => 'refused',
        ),
      ),
    );
    expect(unacknowledged).toEqual(Array(STALE_MESSAGES).fill('refused'));
    signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGSTOP');
    await Promise.all(followers.map((name) => natsCluster().restart(name)));
    // Connected after the restart: a client reconnecting from a killed node may pick the held-back old leader from its server list and hang there.
    const toMajority = await waitFor(() => start(followers.map((name) => natsCluster().node(name).url)), { timeoutMs: 60_000, description: 'kanban to start on the restarted majority' });
    const acknowledged: string[] = [];
    for (let i = 1; i <= STALE_MESSAGES; i++) {
      await waitFor(() => publish(toMajority, `acknowledged-${i}`), { timeoutMs: 60_000, description: `acknowledged-${i} accepted by the restarted majority` });
      acknowledged.push(`acknowledged-${i}`);
    }
    signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGCONT');
    await waitFor(async () => (await jsm.streams.info(stream)).cluster?.replicas?.find((replica) => replica.name === oldLeader)?.current, {
      timeoutMs: 60_000,
      description: `${oldLeader} current on ${stream}`,
    });
    const consumer = new NatsNames(namespace.streamPrefix).workConsumer;
    await moveLeader(admin, `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, async () => (await jsm.consumers.info(stream, consumer)).cluster?.leader, oldLeader);
    expect(await leaderOf(jsm, stream)).not.toBe(oldLeader);

    // Act
    await beforePull(toMajority);
    const delivered: string[] = [];
    await waitFor(
      async () => {
        for (const delivery of await toMajority.queue.pull({ priority: 'normal', domain, max: 10, waitMs: 200 })) {
          delivered.push((delivery.item.payload as { key: string }).key);
          await toMajority.queue.ack(delivery.id, delivery.domain, delivery.lease);
        }
        return (await jsm.streams.info(stream)).state.messages === 0;
      },
      { timeoutMs: 60_000, description: `${stream} to be drained` },
    );

    // Assert
    expect(delivered).toEqual(expect.arrayContaining(['before', 'before-on-old-leader', ...acknowledged]));
  } finally {
    if (oldLeader) signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGCONT');
    for (const app of apps) await app.close();
    await admin.close();
  }
}

async function leaderOf(jsm: JetStreamManager, stream: string): Promise<string> {
  return waitFor(async () => (await jsm.streams.info(stream)).cluster?.leader, { timeoutMs: 30_000, description: `a leader of ${stream}` });
}

/** Asks the current leader to step down (another replica takes over at random) until `node` leads. */
async function moveLeader(nc: NatsConnection, stepDownSubject: string, leader: () => Promise<string | undefined>, node: string): Promise<void> {
  await waitFor(
    async () => {
      if ((await leader()) === node) return true;
      await nc.request(stepDownSubject, undefined, { timeout: 5_000 });
      return false;
    },
    { timeoutMs: 90_000, intervalMs: 1_000, description: `${node} to lead (${stepDownSubject})` },
  );
}
