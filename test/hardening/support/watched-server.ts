import { randomUUID } from 'node:crypto';
import { startPrivateNatsServer } from '../../harness';
import { NatsSpy, type SpiedMessage } from './nats-spy';
import { startServer, type ServerUnderTest } from './server-under-test';

const SENTINEL_DOMAIN = 'sentinel';
/** What the server sends on its own whatever the requests: the schedule mirror, the schedule and coordinator leadership leases, the fleet announcement. */
const SCHEDULE_TRAFFIC = /^(\$JS\.API\.[A-Z.]+\.KANBAN_(SCHEDULES|SCHEDULE_LEADER|COORDINATOR_LEADER|FLEET)(\.|$)|kanban\.schedules\.|kanban\.(schedule|coordinator)-leader$|kanban\.fleet\.)/;

/** Drops the schedule traffic, its replies and its audit advisories; everything a request made the server send stays. */
function withoutScheduleTraffic(messages: SpiedMessage[]): SpiedMessage[] {
  const replies = new Set(messages.filter((m) => SCHEDULE_TRAFFIC.test(m.subject) && m.reply).map((m) => m.reply));
  const audited = (m: SpiedMessage): boolean => m.subject === '$JS.EVENT.ADVISORY.API' && SCHEDULE_TRAFFIC.test((JSON.parse(m.text) as { subject?: string }).subject ?? '');
  return messages.filter((m) => !SCHEDULE_TRAFFIC.test(m.subject) && !replies.has(m.subject) && !audited(m));
}
const SENTINEL_SUBJECT = `kanban.normal.${SENTINEL_DOMAIN}`;

/**
 * The server on a NATS server of its own watched by a `>` subscriber (NatsSpy): what requests made
 * the server publish is what the spy saw between a mark and a sentinel published after them.
 */
export interface WatchedServer {
  server: ServerUnderTest;
  /**
   * Position to read the spy from after the requests that follow, taken once the spy has seen a
   * sentinel published after everything before: on a loaded machine the spy may still be receiving
   * what earlier requests made the server send (an ack and its reply), which would count as later.
   */
  mark(): Promise<number>;
  /** Publishes a sentinel over HTTP and returns the messages the spy saw since `mark` and before it, less the schedule traffic. */
  publishedSince(mark: number): Promise<SpiedMessage[]>;
  close(): Promise<void>;
}

/** Starts the NATS server, the spy and the server, stopping what started if a later step throws. */
export async function startWatchedServer(): Promise<WatchedServer> {
  const nats = await startPrivateNatsServer();
  let spy: NatsSpy | undefined;
  let server: ServerUnderTest | undefined;
  const close = async (): Promise<void> => {
    await server?.close();
    await spy?.close();
    await nats.stop();
  };
  try {
    const watching = await NatsSpy.on(nats.url);
    spy = watching;
    // No coordinator tick during the test: the broker stays silent unless a request reaches it.
    const started = await startServer({ KANBAN_NATS_SERVERS: nats.url, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '600000' });
    server = started;
    const publishedSince = async (mark: number): Promise<SpiedMessage[]> => {
      const text = randomUUID();
      await started
        .http()
        .post('/work')
        .send({ priority: 'normal', domain: SENTINEL_DOMAIN, payload: { sentinel: text }, deadlineMs: 60_000 })
        .expect(201);
      return withoutScheduleTraffic(await watching.before(mark, SENTINEL_SUBJECT, text));
    };
    // Declares the sentinel's stream, so later sentinels are one plain publish each.
    await publishedSince(watching.mark());
    const mark = async (): Promise<number> => {
      await publishedSince(watching.mark());
      return watching.mark();
    };
    return { server: started, mark, publishedSince, close };
  } catch (error) {
    await close();
    throw error;
  }
}
