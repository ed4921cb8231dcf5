import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

describe.each(SERVER_TRANSPORTS)('Domain limit over HTTP (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_MAX_DOMAINS: '2' }, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 400 domain_limit_reached for a publish or pull that would open a domain past KANBAN_MAX_DOMAINS, and serves the others', async () => {
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: server.domain('first') }))
      .expect(201);
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: server.domain('second') }))
      .expect(201);

    const publish = await server
      .http()
      .post('/work')
      .send(workBody({ domain: server.domain('third') }));
    const pull = await server
      .http()
      .post('/work/pull')
      .send({ domain: server.domain('fourth') });
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: server.domain('first') }))
      .expect(201);

    expect(publish.status).toBe(400);
    expect(publish.body).toEqual({ statusCode: 400, error: 'Bad Request', code: 'domain_limit_reached', message: expect.any(String) });
    expect(pull.status).toBe(400);
    expect(pull.body).toMatchObject({ code: 'domain_limit_reached' });
  });
});
