import { waitFor } from '../../../test/harness';
import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

describe.each(SERVER_TRANSPORTS)('Queue full over HTTP (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_MAX_QUEUE_DEPTH: '2', KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '200' }, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After once a queue holds KANBAN_MAX_QUEUE_DEPTH items, and only for that queue', async () => {
    const full = server.domain('full');
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: full }))
      .expect(201);
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: full }))
      .expect(201);

    const refused = await server
      .http()
      .post('/work')
      .send(workBody({ domain: full }))
      .expect(429);
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: full, priority: 'high' }))
      .expect(201);
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: server.domain('other') }))
      .expect(201);
    const publishedAt = Date.now();

    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'queue_full', message: expect.stringContaining('full') });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const queues = await waitFor(
      async () => {
        const response = await server.http().get('/queues').expect(200);
        return response.body.sampledAt >= publishedAt ? response : undefined;
      },
      { timeoutMs: 10_000, description: 'a depth sample taken after the publishes' },
    );
    expect(queues.body.ready).toBe(4);
  });
});
