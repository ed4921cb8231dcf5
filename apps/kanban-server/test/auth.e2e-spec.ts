import { startTestServer, type TestServer } from './support/test-server';
import { publishAndPull, workBody } from './support/work-requests';

const TOKEN = 'e2e-token-0123456789abcdef';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** Every route that needs the token: the mutating ones, and the dead-letter reads (payloads are sensitive). */
const PROTECTED: Array<[method: 'get' | 'post' | 'delete', path: string, body?: object]> = [
  ['post', '/work', workBody()],
  ['post', '/work/pull', { domain: 'billing' }],
  ['post', '/work/ITEM/ack', { domain: 'billing', lease: 'high.x' }],
  ['post', '/work/ITEM/nack', { domain: 'billing', lease: 'high.x', reason: 'no' }],
  ['post', '/work/ITEM/retry', { domain: 'billing', lease: 'high.x' }],
  ['post', '/work/ITEM/extend', { domain: 'billing', lease: 'high.x' }],
  ['get', '/dead-letters'],
  ['get', '/dead-letters/ITEM'],
  ['post', '/dead-letters/ITEM/replay'],
  ['delete', '/dead-letters/ITEM'],
  ['post', '/coordinator/workers', { count: 1 }],
  ['post', '/coordinator/drain'],
  ['post', '/schedules', { type: 'interval', priority: 'low', domain: 'billing', intervalMs: 60_000, deadlineMs: 1000 }],
  ['delete', '/schedules/JOB'],
  ['post', '/schedules/canary', { domain: 'billing' }],
];

describe('Bearer token', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await server.close();
  });

  describe.each(PROTECTED)('%s %s', (method, path, body) => {
    it('answers 401 without a token, with a challenge', async () => {
      const response = await server.http()[method](path).send(body);

      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'unauthorized' });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="kanban"');
    });

    it.each([
      ['a wrong token of the same length', `Bearer ${TOKEN.replace(/.$/, 'X')}`],
      ['a wrong token of another length', 'Bearer short'],
      ['the token under another scheme', `Basic ${TOKEN}`],
      ['the bare token', TOKEN],
    ])('answers 401 with %s', async (_case, authorization) => {
      const response = await server.http()[method](path).set('Authorization', authorization).send(body);

      expect(response.status).toBe(401);
    });
  });

  it.each(['/queues', '/health', '/metrics', '/coordinator/health', '/schedules'])('serves GET %s without a token', async (path) => {
    await server.http().get(path).expect(200);
  });

  it('serves every protected route with the token', async () => {
    const first = await publishAndPull(server, { domain: 'auth' }, AUTH);
    await server.http().post(`/work/${first.id}/extend`).set(AUTH).send({ domain: 'auth', lease: first.lease }).expect(200);
    await server.http().post(`/work/${first.id}/retry`).set(AUTH).send({ domain: 'auth', lease: first.lease }).expect(200);
    const [again] = (await server.http().post('/work/pull').set(AUTH).send({ domain: 'auth', waitMs: 2000 }).expect(200)).body;
    await server.http().post(`/work/${again.id}/nack`).set(AUTH).send({ domain: 'auth', lease: again.lease, reason: 'testing' }).expect(200);
    const second = await publishAndPull(server, { domain: 'auth' }, AUTH);
    await server.http().post(`/work/${second.id}/nack`).set(AUTH).send({ domain: 'auth', lease: second.lease, reason: 'testing' }).expect(200);

    await server.http().get('/dead-letters').set(AUTH).expect(200);
    await server.http().get(`/dead-letters/${first.id}`).set(AUTH).expect(200);
    await server.http().post(`/dead-letters/${first.id}/replay`).set(AUTH).expect(201);
    await server.http().delete(`/dead-letters/${second.id}`).set(AUTH).expect(204);
    const replayed = (await server.http().post('/work/pull').set(AUTH).send({ domain: 'auth' }).expect(200)).body[0];
    await server.http().post(`/work/${replayed.id}/ack`).set(AUTH).send({ domain: 'auth', lease: replayed.lease }).expect(200);

    const { jobId } = (await server.http().post('/schedules').set(AUTH).send({ type: 'interval', priority: 'low', domain: 'auth', intervalMs: 60_000, deadlineMs: 1000 }).expect(201)).body;
    await server.http().delete(`/schedules/${jobId}`).set(AUTH).expect(204);
    await server.http().post('/schedules/canary').set(AUTH).send({ domain: 'auth' }).expect(201);
    await server.http().post('/coordinator/workers').set(AUTH).send({ count: 1 }).expect(200);
    await server.http().post('/coordinator/drain').set(AUTH).expect(202);
  });
});
