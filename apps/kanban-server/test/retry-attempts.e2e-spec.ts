import { natsBroker, rabbitmqBroker, testNamespace } from '../../../test/harness';
import { startTestServer, type TestServer } from './support/test-server';
import { workBody, type PulledItemBody } from './support/work-requests';

const namespace = testNamespace();
/** How long a pull waits for an item to come back after a retry. */
const REDELIVERY_WAIT_MS = 20_000;

const BROKERS: Array<[string, () => Record<string, string>]> = [
  ['embedded', () => ({})],
  ['nats', () => ({ KANBAN_NATS_SERVERS: natsBroker().url })],
  ['rabbitmq', () => ({ KANBAN_RABBITMQ_URL: rabbitmqBroker().url })],
];

describe.each(BROKERS)('POST /work/:id/retry on the last attempt (%s)', (broker, brokerEnv) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ ...brokerEnv(), KANBAN_MAX_ATTEMPTS: '3' });
  });

  afterAll(async () => {
    await server.close();
  });

  const pullOne = async (domain: string): Promise<PulledItemBody[]> =>
    (await server.http().post('/work/pull').send({ domain, max: 1, waitMs: REDELIVERY_WAIT_MS }).expect(200)).body as PulledItemBody[];

  it('dead-letters the item as max_attempts with the last error after exactly KANBAN_MAX_ATTEMPTS deliveries', async () => {
    const domain = namespace.domain(`retry-${broker}`);
    const { id } = (await server.http().post('/work').send(workBody({ domain })).expect(201)).body as { id: string };
    const attempts: number[] = [];
    const answers: unknown[] = [];

    for (let n = 1; n <= 3; n++) {
      const [item] = await pullOne(domain);
      attempts.push(item.attempts);
      const retried = await server
        .http()
        .post(`/work/${id}/retry`)
        .send({ domain, lease: item.lease, error: `gateway timeout ${n}` })
        .expect(200);
      answers.push(retried.body);
    }
    const afterLast = (await server.http().post('/work/pull').send({ domain, waitMs: 1_000 }).expect(200)).body as PulledItemBody[];
    const letter = await server.http().get(`/dead-letters/${id}`).expect(200);

    expect(attempts).toEqual([1, 2, 3]);
    expect(answers).toEqual([
      { id, status: 'retrying' },
      { id, status: 'retrying' },
      { id, status: 'dead_lettered' },
    ]);
    expect(afterLast).toEqual([]);
    expect(letter.body).toMatchObject({ id, reason: 'max_attempts', error: 'gateway timeout 3', attempts: 3 });
  });

  it('refuses a retry error that is not a string of at most 1024 characters', async () => {
    const domain = namespace.domain(`retry-bad-${broker}`);
    await server.http().post('/work').send(workBody({ domain })).expect(201);
    const [item] = await pullOne(domain);

    const tooLong = await server
      .http()
      .post(`/work/${item.id}/retry`)
      .send({ domain, lease: item.lease, error: 'x'.repeat(1025) })
      .expect(400);
    const notText = await server.http().post(`/work/${item.id}/retry`).send({ domain, lease: item.lease, error: 42 }).expect(400);

    expect(tooLong.body.message).toEqual(['error must be a string of 1 to 1024 characters']);
    expect(notText.body.message).toEqual(['error must be a string of 1 to 1024 characters']);
    await server.http().post(`/work/${item.id}/ack`).send({ domain, lease: item.lease }).expect(200);
  });
});

describe('POST /work/:id/extend on NATS', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Lease = 1 s processing timeout + 1 s grace: the consumer's ack wait caps what an extension can hold.
    server = await startTestServer({ KANBAN_NATS_SERVERS: natsBroker().url, KANBAN_WORKER_PROCESS_TIMEOUT_MS: '1000' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('reports the lease NATS granted, not the longer one asked for', async () => {
    const domain = namespace.domain('extend-capped');
    await server.http().post('/work').send(workBody({ domain })).expect(201);
    const [item] = (await server.http().post('/work/pull').send({ domain, max: 1, waitMs: 5_000 }).expect(200)).body as PulledItemBody[];
    const askedAt = Date.now();

    const extended = await server.http().post(`/work/${item.id}/extend`).send({ domain, lease: item.lease, leaseMs: 60_000 }).expect(200);
    const answeredAt = Date.now();

    expect(extended.body).toEqual({ id: item.id, status: 'extended', leaseExpiresAt: expect.any(Number) });
    expect(extended.body.leaseExpiresAt).toBeGreaterThan(askedAt);
    expect(extended.body.leaseExpiresAt).toBeLessThanOrEqual(answeredAt + 2_000);
    await server.http().post(`/work/${item.id}/ack`).send({ domain, lease: item.lease }).expect(200);
  });
});
