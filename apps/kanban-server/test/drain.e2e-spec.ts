import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { publishAndPull, workBody } from './support/work-requests';

describe.each(SERVER_TRANSPORTS)('Drain over HTTP (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  it('accepts the drain with 202, then refuses new work with 503 and reports down health, while in-flight work still settles', async () => {
    const domain = server.domain('draining');
    const inFlight = await publishAndPull(server, { domain });
    const nacked = await publishAndPull(server, { domain });
    await server.http().post(`/work/${nacked.id}/nack`).send({ domain, lease: nacked.lease, reason: 'for replay' }).expect(200);

    const drain = await server.http().post('/coordinator/drain').expect(202);
    const publish = await server.http().post('/work').send(workBody({ domain })).expect(503);
    const replay = await server.http().post(`/dead-letters/${nacked.id}/replay`).expect(503);
    const health = await server.http().get('/health').expect(503);
    await server.http().post(`/work/${inFlight.id}/ack`).send({ domain, lease: inFlight.lease }).expect(200);

    expect(drain.body).toMatchObject({ queue_draining: true });
    expect(publish.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'draining', message: expect.stringContaining('draining') });
    expect(replay.body).toMatchObject({ statusCode: 503 });
    expect(health.body).toMatchObject({ status: 'error', error: { queue: { status: 'down', draining: true } } });
    expect((await server.http().get('/coordinator/health').expect(200)).body).toMatchObject({ queue_draining: true });
  });
});
