import { HOSTILE_DOMAINS } from './support/hostile-inputs';
import type { ServerUnderTest } from './support/server-under-test';
import { startWatchedServer, type WatchedServer } from './support/watched-server';

/** Every route that takes a domain, with the domain in the place a client would put it. */
const ROUTES: Array<[name: string, send: (server: ServerUnderTest, domain: string) => Promise<{ status: number; body: { fields?: Array<{ field: string }> } }>]> = [
  [
    'POST /work',
    (s, domain) =>
      s
        .http()
        .post('/work')
        .send({ priority: 'high', domain, payload: { injected: true }, deadlineMs: 60_000 }),
  ],
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
  let watched: WatchedServer;

  beforeAll(async () => {
    watched = await startWatchedServer();
  });

  afterAll(async () => {
    await watched?.close();
  });

  it.each(HOSTILE_DOMAINS)('refuses a domain with %s on every route before any broker call', async (_label, domain) => {
    // Arrange
    const mark = await watched.mark();

    // Act
    const answers = [];
    for (const [route, send] of ROUTES) {
      const response = await send(watched.server, domain);
      answers.push({ route, status: response.status, fields: (response.body.fields ?? []).map((f) => f.field) });
    }
    const stray = await watched.publishedSince(mark);

    // Assert
    expect(answers).toEqual(ROUTES.map(([route]) => ({ route, status: 400, fields: expect.arrayContaining(['domain']) })));
    expect(stray).toEqual([]);
  });

  it('sees the valid publish that follows, so the spy is not blind', async () => {
    // Arrange
    const mark = await watched.mark();

    // Act
    await watched.server
      .http()
      .post('/work')
      .send({ priority: 'high', domain: 'visible', payload: { seen: true }, deadlineMs: 60_000 })
      .expect(201);
    const traffic = await watched.publishedSince(mark);

    // Assert
    expect(traffic.map((m) => m.subject)).toContain('kanban.high.visible');
  });
});
