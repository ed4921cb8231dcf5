import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

describe('Queue full over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_MAX_QUEUE_DEPTH: '2' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After once a queue holds KANBAN_MAX_QUEUE_DEPTH items, and only for that queue', async () => {
    await server.http().post('/work').send(workBody({ domain: 'full' })).expect(201);
    await server.http().post('/work').send(workBody({ domain: 'full' })).expect(201);

    const refused = await server.http().post('/work').send(workBody({ domain: 'full' })).expect(429);
    await server.http().post('/work').send(workBody({ domain: 'full', priority: 'high' })).expect(201);
    await server.http().post('/work').send(workBody({ domain: 'other' })).expect(201);

    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('full') });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await server.http().get('/queues').expect(200)).body.ready).toBe(4);
  });
});
