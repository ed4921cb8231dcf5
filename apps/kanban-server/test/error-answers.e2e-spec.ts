import { freePort } from '../../../test/harness';
import { CapturingLogger } from '../../../test/hardening/support/capturing-logger';
import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

/** Text that tells an outsider how the server is built: file paths, broker addresses, store errors. */
function internalsIn(text: string, ...secrets: string[]): string[] {
  const patterns = [/\/tmp\/|\.db\b/, /127\.0\.0\.1:\d+|ECONNREFUSED/, /sqlite/i, /outbox at/];
  return [...patterns.filter((pattern) => pattern.test(text)).map(String), ...secrets.filter((secret) => text.includes(secret))];
}

/** Error answers carry a stable `code` and a generic message; what went wrong inside goes to the log only. */
describe('Error answers', () => {
  describe('with both brokers unreachable and the outbox full', () => {
    let server: TestServer;
    const logger = new CapturingLogger();
    let natsUrl: string;
    let rabbitUrl: string;

    beforeAll(async () => {
      natsUrl = `nats://127.0.0.1:${await freePort()}`;
      rabbitUrl = `amqp://kanban:hunter2-secret@127.0.0.1:${await freePort()}/`;
      server = await startTestServer({ KANBAN_NATS_SERVERS: natsUrl, KANBAN_RABBITMQ_URL: rabbitUrl, KANBAN_OUTBOX_MAX_ITEMS: '1' }, 'embedded', logger);
    });

    afterAll(async () => {
      await server.close();
    });

    it('answers 503 broker_unavailable with a message that names neither the outbox file nor a broker, and logs what failed', async () => {
      await server
        .http()
        .post('/work')
        .send(workBody({ domain: 'outage' }))
        .expect(201);

      const refused = await server
        .http()
        .post('/work')
        .send(workBody({ domain: 'outage' }))
        .expect(503);

      expect(refused.body).toEqual({ statusCode: 503, error: 'Service Unavailable', code: 'broker_unavailable', message: expect.any(String) });
      expect(internalsIn(refused.text, server.dbPath, 'hunter2')).toEqual([]);
      expect(logger.lines.filter((line) => line.startsWith('WARN') && line.includes('503') && line.includes(server.dbPath))).toHaveLength(1);
    });

    it('shows on /health that publishes wait in the outbox, without its path or the brokers', async () => {
      const health = await server.http().get('/health').expect(200);

      expect(health.body).toMatchObject({ info: { broker: { status: 'degraded', active: 'outbox' } } });
      expect(internalsIn(health.text, server.dbPath, 'hunter2')).toEqual([]);
    });
  });

  describe('on the embedded store', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_MAX_QUEUE_DEPTH: '1', KANBAN_WORKER_PROCESS_TIMEOUT_MS: '1', KANBAN_API_TOKEN: 'answers-token-0123456789' });
    });

    afterAll(async () => {
      await server.close();
    });

    const auth = { Authorization: 'Bearer answers-token-0123456789' };

    it.each([
      [
        'validation_failed',
        400,
        () =>
          server
            .http()
            .post('/work')
            .set(auth)
            .send(workBody({ priority: 'urgent' })),
      ],
      ['bad_request', 400, () => server.http().post('/work').set(auth).set('content-type', 'application/json').send('{"priority":')],
      ['unauthorized', 401, () => server.http().post('/work').send(workBody())],
      ['not_found', 404, () => server.http().get('/no-such-route')],
      ['dead_letter_not_found', 404, () => server.http().get('/dead-letters/unknown-id').set(auth)],
      ['schedule_not_found', 404, () => server.http().delete('/schedules/no-such-job').set(auth)],
      [
        'payload_too_large',
        413,
        () =>
          server
            .http()
            .post('/work')
            .set(auth)
            .send(workBody({ payload: 'x'.repeat(1024 * 1024) })),
      ],
    ])('answers %s (%i) with the common body', async (code, status, send) => {
      const response = await send();

      expect(response.status).toBe(status);
      expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String), code, message: expect.anything() });
    });

    it('answers queue_full (429) and lease_expired (409) with their codes', async () => {
      await server
        .http()
        .post('/work')
        .set(auth)
        .send(workBody({ domain: 'codes' }))
        .expect(201);
      const full = await server
        .http()
        .post('/work')
        .set(auth)
        .send(workBody({ domain: 'codes' }))
        .expect(429);
      const [item] = (await server.http().post('/work/pull').set(auth).send({ domain: 'codes' }).expect(200)).body;
      await server.http().post('/work/pull').set(auth).send({ domain: 'codes', waitMs: 10_000 }).expect(200);

      const stale = await server.http().post(`/work/${item.id}/ack`).set(auth).send({ domain: 'codes', lease: item.lease }).expect(409);

      expect(full.body).toMatchObject({ statusCode: 429, code: 'queue_full' });
      expect(stale.body).toMatchObject({ statusCode: 409, code: 'lease_expired' });
    });

    it('answers draining (503) once the server drains', async () => {
      await server.http().post('/coordinator/drain').set(auth).expect(202);

      const refused = await server
        .http()
        .post('/work')
        .set(auth)
        .send(workBody({ domain: 'late' }))
        .expect(503);

      expect(refused.body).toMatchObject({ statusCode: 503, code: 'draining' });
    });
  });
});
