import { KanbanQueue } from '@tps/kanban';
import { startWatchedServer, type WatchedServer } from './support/watched-server';

const LATER = (): number => Date.now() + 600_000;
/**
 * A handle is `{priority}.{publishedAt}.{holder}.{transport lease}`; the forgeries carry this
 * server's own holder (so they are judged here, not relayed) and are in the transport lease.
 */
const PUBLISHED_AT = 1_700_000_000_000;

/**
 * On NATS a transport lease is the delivery's JetStream ack subject (`$JS.ACK.…`) and a client
 * sends it back to settle. A forged one must be refused without the server publishing to the
 * subject it names, and a real one settles only the item and domain it was issued for.
 */
describe('forged and misdirected leases (nats, over HTTP)', () => {
  let watched: WatchedServer;
  /** This server's instance id, read from a lease it handed out. */
  let holder: string;

  const publishAndPull = async (domain: string): Promise<{ id: string; lease: string }> => {
    await watched.server.http().post('/work').send({ priority: 'normal', domain, payload: 1, deadlineMs: 60_000 }).expect(201);
    return (await watched.server.http().post('/work/pull').send({ domain, max: 1 }).expect(200)).body[0];
  };
  // Read from the queue itself: GET /queues serves the coordinator's last sample, which may predate the request.
  const inFlight = async (domain: string): Promise<number> => (await watched.server.app.get(KanbanQueue).depth()).filter((q) => q.domain === domain).reduce((n, q) => n + q.inFlight, 0);

  beforeAll(async () => {
    watched = await startWatchedServer();
    const sample = await publishAndPull('holder');
    holder = sample.lease.split('.')[2];
    await watched.server.http().post(`/work/${sample.id}/ack`).send({ domain: 'holder', lease: sample.lease }).expect(200);
  });

  afterAll(async () => {
    await watched?.close();
  });

  it.each([
    ['wildcards for stream and consumer', () => `normal.${PUBLISHED_AT}.${holder}.$JS.ACK.*.>.1.1.1.1.1`],
    ['CR/LF with an injected PUB after the numbered tokens', () => `normal.${PUBLISHED_AT}.${holder}.$JS.ACK.d.h.S.C.1.1.1.1.1.x\r\nPUB kanban.high.injected 5\r\nhello`],
    ['the dead-letter stream', () => `normal.${PUBLISHED_AT}.${holder}.$JS.ACK.KANBAN_DLQ.KANBAN_worker.1.1.1.1.0`],
    ['a space in the stream token', () => `normal.${PUBLISHED_AT}.${holder}.$JS.ACK.KANBAN_NORMAL_x y.KANBAN_worker.1.1.1.1.0`],
    ['the work stream with a far client-side expiry', () => `normal.${PUBLISHED_AT}.${holder}.$JS.ACK.KANBAN_NORMAL_billing.KANBAN_worker.1.1.1.1.0|${LATER()}`],
  ])('refuses a forged lease naming %s with 400 or 409, publishing nothing', async (_label, forge) => {
    // Arrange
    const mark = await watched.mark();

    // Act
    const response = await watched.server.http().post('/work/ITEM/ack').send({ domain: 'billing', lease: forge() });
    const stray = await watched.publishedSince(mark);

    // Assert: both at once, so a failure shows what the server answered and what it published.
    expect({ status: response.status, refused: [400, 409].includes(response.status), published: stray.map((m) => m.subject) }).toEqual({ status: expect.any(Number), refused: true, published: [] });
  });

  it("refuses a real lease presented for another item's id and domain, and leaves its item leased", async () => {
    // Arrange
    const alpha = await publishAndPull('alpha');
    const beta = await publishAndPull('beta');

    // Act
    const misdirected = await watched.server.http().post(`/work/${beta.id}/ack`).send({ domain: 'beta', lease: alpha.lease });

    // Assert
    expect({ status: misdirected.status, refused: [400, 409].includes(misdirected.status), alpha: await inFlight('alpha'), beta: await inFlight('beta') }).toEqual({
      status: expect.any(Number),
      refused: true,
      alpha: 1,
      beta: 1,
    });
    await watched.server.http().post(`/work/${alpha.id}/ack`).send({ domain: 'alpha', lease: alpha.lease }).expect(200);
    await watched.server.http().post(`/work/${beta.id}/ack`).send({ domain: 'beta', lease: beta.lease }).expect(200);
  });
});
