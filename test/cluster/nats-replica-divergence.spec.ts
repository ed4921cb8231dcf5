import { jetstreamManager, jetstream, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node';
import { natsCluster, testNamespace, waitFor } from '../harness';
import { signalGroup } from '../harness/local-process';

const CLUSTER_TEST_TIMEOUT_MS = 180_000;
/** A publish the old leader cannot commit: no PubAck comes while its followers are down. */
const UNCOMMITTED_PUBLISH_TIMEOUT_MS = 2_000;
const STALE_MESSAGES = 5;

describe('nats-server 2.9.10 raw JetStream, no kanban: an R3 stream after kill -9 of two of three nodes', () => {
  beforeAll(() => natsCluster().start(), CLUSTER_TEST_TIMEOUT_MS);

  afterEach(async () => {
    for (const node of natsCluster().nodes) signalGroup(node.local.pid, 'SIGCONT');
    const stopped = natsCluster().nodes.filter((node) => !natsCluster().isRunning(node.name));
    await Promise.all(stopped.map((node) => natsCluster().restart(node.name)));
  }, CLUSTER_TEST_TIMEOUT_MS);

  it('the old leader keeps the publishes it never acknowledged at sequences the new leader acknowledged for others', async () => {
    // Arrange
    const namespace = testNamespace();
    const stream = `DIVERGE_${namespace.streamPrefix}`;
    const subject = `diverge.${namespace.streamPrefix.toLowerCase()}`;
    const all = await connectNats({ servers: natsCluster().urls });
    const jsm = await jetstreamManager(all);
    await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: 3 });
    for (let i = 1; i <= 3; i++) await jetstream(all).publish(subject, `before-${i}`);
    const oldLeader = await leaderOf(jsm, stream);
    const followers = natsCluster().nodes.filter((node) => node.name !== oldLeader).map((node) => node.name);
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
      const newLeader = await leaderOf(followerJsm, stream);
      await waitFor(async () => (await leaderOf(followerJsm, stream, true)) === oldLeader, { timeoutMs: 90_000, intervalMs: 1_000, description: `${oldLeader} to lead ${stream} again` });
      const readFromOldLeader = await Promise.all(acknowledged.map(async ({ seq }) => (await followerJsm.streams.getMessage(stream, { seq }))?.string()));

      // Assert
      console.log(
        JSON.stringify({ oldLeader, newLeader, unacknowledged, acknowledged, readFromOldLeader, jsz: await Promise.all(natsCluster().nodes.map((node) => streamStateAt(node.local.monitorPort as number, stream))) }),
      );
      expect(readFromOldLeader).toEqual(acknowledged.map(({ body }) => body));
    } finally {
      signalGroup(natsCluster().node(oldLeader).local.pid, 'SIGCONT');
      await toFollowers?.close();
      await toOldLeader.close();
    }
  }, CLUSTER_TEST_TIMEOUT_MS);
});

/** The stream's leader; with `stepDown`, asks the current leader to step down first (another replica takes over). */
async function leaderOf(jsm: JetStreamManager, stream: string, stepDown = false): Promise<string> {
  if (stepDown) await jsm.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5_000 }).catch(() => undefined);
  return waitFor(async () => (await jsm.streams.info(stream)).cluster?.leader, { timeoutMs: 30_000, description: `a leader of ${stream}` });
}

async function streamStateAt(monitorPort: number, stream: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz?streams=true`);
  const jsz = (await response.json()) as { server_name: string; account_details?: { stream_detail?: { name: string; state: unknown }[] }[] };
  const detail = jsz.account_details?.flatMap((account) => account.stream_detail ?? []).find((candidate) => candidate.name === stream);
  return { server: jsz.server_name, state: detail?.state };
}
