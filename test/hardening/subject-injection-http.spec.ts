import { randomUUID } from 'node:crypto';
import { startPrivateNatsServer, type PrivateNatsServer } from '../harness';
import { HOSTILE_DOMAINS } from './support/hostile-inputs';
import { NatsSpy } from './support/nats-spy';
import { startServer, type ServerUnderTest } from './support/server-under-test';

const SENTINEL_DOMAIN = 'sentinel';
const SENTINEL_SUBJECT = `kanban.normal.${SENTINEL_DOMAIN}`;

/** Every route that takes a domain, with the domain in the place a client would put it. */
const ROUTES: Array<[name: string, send: (server: ServerUnderTest, domain: string) => Promise<{ status: number; body: { fields?: Array<{ field: string }> } }>]> = [
  ['POST /work', (s, domain) => s.http().post('/work').send({ priority: 'high', domain, payload: { injected: true }, deadlineMs: 60_000 })],
  ['POST /work/pull', (s, domain) => s.http().post('/work/pull').send({ domain, max: 1 })],
  ['POST /work/:id/ack', (s, domain) => s.http().post('/work/ITEM/ack').send({ domain, lease: 'normal.lease' })],
  ['POST /work/:id/nack', (s, domain) => s.http().post('/work/ITEM/nack').send({ domain, lease: 'normal.lease', reason: 'no' })],
  ['POST /work/:id/retry', (s, domain) => s.http().post('/work/ITEM/retry').send({ domain, lease: 'normal.lease' })],
  ['POST /work/:id/extend', (s, domain) => s.http().post('/work/ITEM/extend').send({ domain, lease: 'normal.lease' })],
  ['GET /dead-letters?domain=', (s, domain) => s.http().get('/dead-letters').query({ domain })],
  ['POST /schedules', (s, domain) => s.http().post('/schedules').send({ type: 'interval', priority: 'low', domain, intervalMs: 60_000, deadlineMs: 1000 })],
  ['POST /schedules/canary', (s, domain) => s.http().post('/schedules/canary').send({ domain, payload: 1 })],
];

/**
 * Hostile domains over HTTP, on a NATS server of its own watched by a `>` subscriber: each is
 * refused with 400 naming `domain`, and nothing reaches the broker (the spy sees no message at all
 * between the hostile requests and a sentinel publish sent after them).
 */
describe('subject injection over HTTP', () => {
  let nats: PrivateNatsServer;
  let spy: NatsSpy;
  let server: ServerUnderTest;

  const publishSentinel = async (): Promise<string> => {
    const text = randomUUID();
    await server.http().post('/work').send({ priority: 'normal', domain: SENTINEL_DOMAIN, payload: { sentinel: text }, deadlineMs: 60_000 }).expect(201);
    return text;
  };

  beforeAll(async () => {
    nats = await startPrivateNatsServer();
    spy = await NatsSpy.on(nats.url);
    // No coordinator tick during the test: the broker stays silent unless a request reaches it.
    server = await startServer({ KANBAN_NATS_SERVERS: nats.url, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '600000' });
    // Declares the sentinel's stream, so later sentinels are one plain publish each.
    await spy.before(spy.mark(), SENTINEL_SUBJECT, await publishSentinel());
  });

  afterAll(async () => {
    await server?.close();
    await spy?.close();
    await nats?.stop();
  });

  it.each(HOSTILE_DOMAINS)('refuses a domain with %s on every route before any broker call', async (_label, domain) => {
    // Arrange
    const mark = spy.mark();

    // Act
    const answers = [];
    for (const [route, send] of ROUTES) {
      const response = await send(server, domain);
      answers.push({ route, status: response.status, fields: (response.body.fields ?? []).map((f) => f.field) });
    }
    const stray = await spy.before(mark, SENTINEL_SUBJECT, await publishSentinel());

    // Assert
    expect(answers).toEqual(ROUTES.map(([route]) => ({ route, status: 400, fields: expect.arrayContaining(['domain']) })));
    expect(stray).toEqual([]);
  });

  it('sees the valid publish that follows, so the spy is not blind', async () => {
    // Arrange
    const mark = spy.mark();

    // Act
    await server.http().post('/work').send({ priority: 'high', domain: 'visible', payload: { seen: true }, deadlineMs: 60_000 }).expect(201);
    const traffic = await spy.before(mark, SENTINEL_SUBJECT, await publishSentinel());

    // Assert
    expect(traffic.map((m) => m.subject)).toContain('kanban.high.visible');
  });
});
