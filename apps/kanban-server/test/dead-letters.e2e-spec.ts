import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { publishAndPull } from './support/work-requests';

const UNKNOWN_ID = '01NOSUCHDEADLETTER00000000';

describe.each(SERVER_TRANSPORTS)('Dead letters over HTTP (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  async function nack(domain: string, reason: string): Promise<string> {
    const item = await publishAndPull(server, { domain, payload: { order: reason } });
    await server.http().post(`/work/${item.id}/nack`).send({ domain, lease: item.lease, reason }).expect(200);
    return item.id;
  }

  it('lists, filters and fetches dead letters with their reason and error', async () => {
    const letters = server.domain('letters');
    const first = await nack(letters, 'card declined');
    const second = await nack(letters, 'address unknown');
    await nack(server.domain('letters-other'), 'elsewhere');

    const all = await server.http().get('/dead-letters').query({ domain: letters }).expect(200);
    const byReason = await server.http().get('/dead-letters').query({ reason: 'nack', limit: 1 }).expect(200);
    const one = await server.http().get(`/dead-letters/${first}`).expect(200);

    expect(all.body.items.map((d: { id: string }) => d.id)).toEqual([first, second]);
    expect(all.body.nextCursor).toBeUndefined();
    expect(byReason.body.items).toHaveLength(1);
    expect(byReason.body.nextCursor).toEqual(expect.any(String));
    expect(one.body).toMatchObject({ id: first, domain: letters, reason: 'nack', error: 'card declined', attempts: 1, item: { payload: { order: 'card declined' } } });
  });

  it('replays a dead letter as a new item with 201 {id, broker} and removes it from the dead-letter queue', async () => {
    const replays = server.domain('replays');
    const deadId = await nack(replays, 'try again later');

    const replay = await server.http().post(`/dead-letters/${deadId}/replay`).expect(201);
    const pulled = await server.http().post('/work/pull').send({ domain: replays, waitMs: 5000 }).expect(200);

    expect(replay.body).toEqual({ id: expect.any(String), broker: server.broker });
    expect(replay.body.id).not.toBe(deadId);
    expect(pulled.body).toEqual([expect.objectContaining({ id: replay.body.id, attempts: 1, payload: { order: 'try again later' } })]);
    await server.http().get(`/dead-letters/${deadId}`).expect(404);
  });

  it('purges a dead letter with 204', async () => {
    const purges = server.domain('purges');
    const deadId = await nack(purges, 'not wanted');

    await server.http().delete(`/dead-letters/${deadId}`).expect(204);

    await server.http().get(`/dead-letters/${deadId}`).expect(404);
    expect((await server.http().get('/dead-letters').query({ domain: purges }).expect(200)).body).toEqual({ items: [] });
  });

  it.each([
    ['get', `/dead-letters/${UNKNOWN_ID}`],
    ['post', `/dead-letters/${UNKNOWN_ID}/replay`],
    ['delete', `/dead-letters/${UNKNOWN_ID}`],
  ] as const)('answers 404 for %s of an unknown dead letter', async (method, path) => {
    const response = await server.http()[method](path).expect(404);

    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.stringContaining(UNKNOWN_ID) });
  });

  it('pages oldest first with {items, nextCursor}, each letter once, to the end', async () => {
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(await nack('pages', `page ${n}`));

    const listed: string[] = [];
    const cursors: Array<string | undefined> = [];
    let cursor: string | undefined;
    do {
      const page = await server
        .http()
        .get('/dead-letters')
        .query({ domain: 'pages', limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      listed.push(...page.body.items.map((d: { id: string }) => d.id));
      cursor = page.body.nextCursor;
      cursors.push(cursor);
    } while (cursor);

    expect(listed).toEqual(ids);
    expect(cursors).toHaveLength(3);
  });

  it('lists every bad query parameter', async () => {
    const response = await server
      .http()
      .get('/dead-letters')
      .query({ domain: 'A.B', reason: 'bored', limit: 0, page: 2, cursor: 'x'.repeat(65) })
      .expect(400);

    expect(response.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['cursor', 'domain', 'limit', 'page', 'reason']);
  });

  it('answers 400 naming the cursor for one it never handed out', async () => {
    const response = await server.http().get('/dead-letters').query({ cursor: 'not-a-cursor' }).expect(400);

    expect(response.body.fields).toEqual([{ field: 'cursor', message: expect.any(String) }]);
  });
});
