import { waitFor } from '../../../test/harness';
import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';

/** The README's curl flow: publish, pull, ack, the queue is empty again, the server is healthy. */
describe.each(SERVER_TRANSPORTS)('Hello Kanban over HTTP (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    // Short coordinator rounds: GET /queues serves the latest depth sample.
    server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '200' }, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  it('publishes, pulls, acks, then shows an empty queue and a healthy server', async () => {
    const domain = server.domain('hello');
    const published = await server
      .http()
      .post('/work')
      .send({ priority: 'high', domain, payload: { greeting: 'Hello Kanban' }, deadlineMs: 60_000 })
      .expect(201);
    expect(published.body).toEqual({ id: expect.any(String), broker: server.broker, duplicate: false });

    const pulled = await server.http().post('/work/pull').send({ domain, max: 10, waitMs: 5000 }).expect(200);
    expect(pulled.body).toEqual([
      expect.objectContaining({
        id: published.body.id,
        priority: 'high',
        domain,
        payload: { greeting: 'Hello Kanban' },
        attempts: 1,
        headers: {},
        lease: expect.any(String),
        leaseExpiresAt: expect.any(Number),
        deadline: expect.any(Number),
      }),
    ]);
    const [item] = pulled.body;

    const acked = await server.http().post(`/work/${item.id}/ack`).send({ domain, lease: item.lease }).expect(200);
    const ackedAt = Date.now();
    expect(acked.body).toEqual({ id: item.id, status: 'acked' });

    const queues = await waitFor(
      async () => {
        const response = await server.http().get('/queues').expect(200);
        return response.body.sampledAt >= ackedAt ? response : undefined;
      },
      { timeoutMs: 10_000, description: 'a depth sample taken after the ack' },
    );
    expect(queues.body).toMatchObject({ ready: 0, inFlight: 0 });
    // A domain pull on a broker opens the domain's three queues; the item's is the high one.
    const own = queues.body.queues.filter((q: { domain: string }) => q.domain === domain);
    expect(own).toContainEqual({ broker: server.broker, priority: 'high', domain, ready: 0, inFlight: 0 });
    expect(own).toEqual(own.map((q: { priority: string }) => ({ broker: server.broker, priority: q.priority, domain, ready: 0, inFlight: 0 })));

    const health = await server.http().get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', info: { broker: { status: 'up' }, queue: { status: 'up' }, workers: { status: 'up' } } });
  });

  it('answers a pull on an empty queue with an empty list', async () => {
    const pulled = await server
      .http()
      .post('/work/pull')
      .send({ domain: server.domain('nothing-here') })
      .expect(200);

    expect(pulled.body).toEqual([]);
  });

  it('folds a repeated idempotencyKey into the first item', async () => {
    const body = { priority: 'normal', domain: server.domain('once'), payload: 1, deadlineMs: 60_000, idempotencyKey: 'order-42' };

    const first = await server.http().post('/work').send(body).expect(201);
    const again = await server.http().post('/work').send(body).expect(201);

    expect(again.body).toEqual({ id: first.body.id, broker: server.broker, duplicate: true });
    expect((await server.http().post('/work/pull').send({ domain: body.domain, waitMs: 2000 }).expect(200)).body).toHaveLength(1);
  });
});
