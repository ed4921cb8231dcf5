import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from './support/test-server';
import { publishAndPull, type PulledItemBody } from './support/work-requests';

/**
 * A lease is the processing timeout plus a grace of as long again (up to 5 s). With a 1 s processing
 * timeout it lapses after 2 s: long enough for a settle right after a pull, short enough to wait out
 * once for a real lapse.
 */
describe('Stale leases over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_WORKER_PROCESS_TIMEOUT_MS: '1000' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('refuses every settle from the stale holder with 409 once the item went to another worker, and the new holder settles it', async () => {
    const stale = await publishAndPull(server, { domain: 'fencing' });
    await sleep(Math.max(0, stale.leaseExpiresAt - Date.now()) + 200);
    const redelivered = (await server.http().post('/work/pull').send({ domain: 'fencing', waitMs: 5000 }).expect(200)).body as PulledItemBody[];
    expect(redelivered).toEqual([expect.objectContaining({ id: stale.id, attempts: 2 })]);

    const settle = { domain: 'fencing', lease: stale.lease };
    const ack = await server.http().post(`/work/${stale.id}/ack`).send(settle).expect(409);
    await server.http().post(`/work/${stale.id}/nack`).send({ ...settle, reason: 'late' }).expect(409);
    await server.http().post(`/work/${stale.id}/retry`).send(settle).expect(409);
    await server.http().post(`/work/${stale.id}/extend`).send(settle).expect(409);
    await server.http().post(`/work/${stale.id}/ack`).send({ domain: 'fencing', lease: redelivered[0].lease }).expect(200);

    expect(ack.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('expired') });
    expect((await server.http().get('/queues').expect(200)).body).toMatchObject({ ready: 0, inFlight: 0 });
  });

  it('extends a lease: the answer says until when, and the item is not handed out again before then', async () => {
    const held = await publishAndPull(server, { domain: 'fencing-extend' });

    const extended = (await server.http().post(`/work/${held.id}/extend`).send({ domain: 'fencing-extend', lease: held.lease, leaseMs: 60_000 }).expect(200)).body as {
      leaseExpiresAt: number;
    };
    await sleep(Math.max(0, held.leaseExpiresAt - Date.now()) + 200);
    const pulledAfterFirstExpiry = (await server.http().post('/work/pull').send({ domain: 'fencing-extend', waitMs: 500 }).expect(200)).body as PulledItemBody[];
    await server.http().post(`/work/${held.id}/ack`).send({ domain: 'fencing-extend', lease: held.lease }).expect(200);

    expect(extended).toEqual({ id: held.id, status: 'extended', leaseExpiresAt: expect.any(Number) });
    expect(extended.leaseExpiresAt).toBeGreaterThan(held.leaseExpiresAt + 50_000);
    expect(pulledAfterFirstExpiry).toEqual([]);
  });

  it('answers 404 for a settle on an item that does not exist', async () => {
    const live = await publishAndPull(server, { domain: 'fencing-404' });

    const response = await server.http().post('/work/01NOSUCHITEM0000000000000/ack').send({ domain: 'fencing-404', lease: live.lease }).expect(404);

    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
