import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanQueue } from '@tps/kanban';
import { natsBroker, waitFor } from '../../../test/harness';
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
    await server
      .http()
      .post(`/work/${stale.id}/nack`)
      .send({ ...settle, reason: 'late' })
      .expect(409);
    await server.http().post(`/work/${stale.id}/retry`).send(settle).expect(409);
    await server.http().post(`/work/${stale.id}/extend`).send(settle).expect(409);
    await server.http().post(`/work/${stale.id}/ack`).send({ domain: 'fencing', lease: redelivered[0].lease }).expect(200);

    expect(ack.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('expired') });
    const ackedAt = Date.now();
    const queues = await waitFor(
      async () => {
        const response = await server.http().get('/queues').expect(200);
        return response.body.sampledAt >= ackedAt ? response : undefined;
      },
      { timeoutMs: 10_000, description: 'a depth sample taken after the ack' },
    );
    expect(queues.body).toMatchObject({ ready: 0, inFlight: 0 });
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

/**
 * Two server instances on one NATS: a lease fences on what the instance that handed it out knows
 * (its lease registry: the delivery, the item id), never on what the client sends back.
 */
describe('Stale and forged leases across two server instances (NATS)', () => {
  let a: TestServer;
  let b: TestServer;
  const domain = `fencing-fleet-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    const env = { KANBAN_WORKER_PROCESS_TIMEOUT_MS: '1000', KANBAN_NATS_SERVERS: natsBroker().url, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '600000' };
    a = await startTestServer(env);
    b = await startTestServer(env);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("answers 409 to stale and forged settles at A and at B once B holds the item, 200 to B's real ack at A, and the item is processed once", async () => {
    // Arrange: pulled at A, lapsed, pulled again at B; a second item held at A.
    const stale = await publishAndPull(a, { domain });
    const redelivered = await waitFor(async () => ((await b.http().post('/work/pull').send({ domain, waitMs: 1000 }).expect(200)).body as PulledItemBody[])[0], {
      timeoutMs: 15_000,
      intervalMs: 10,
      description: 'the lapsed item pulled at B',
    });
    const other = await publishAndPull(a, { domain });
    const [priority, publishedAt, holderB, ...transportLease] = redelivered.lease.split('.');
    const holderA = other.lease.split('.')[2];
    const forged: Record<string, { id: string; lease: string }> = {
      'stale lease': { id: stale.id, lease: stale.lease },
      'stale lease with a far expiry': { id: stale.id, lease: `${stale.lease.replace(/\|\d+$/, '')}|9999999999999` },
      'current lease naming the other instance': { id: stale.id, lease: [priority, publishedAt, holderA, ...transportLease].join('.') },
      'current lease naming no instance': { id: stale.id, lease: [priority, publishedAt, randomBytes(16).toString('hex'), ...transportLease].join('.') },
      'current lease with an edited delivery': { id: stale.id, lease: [priority, publishedAt, holderB, ...transportLease].join('.').replace(/\.(\d+)\.(\d+)$/, '.$1.9$2') },
      "current lease with another item's id": { id: other.id, lease: redelivered.lease },
    };

    // Act
    const statuses: Record<string, number> = {};
    for (const [name, server] of [
      ['A', a],
      ['B', b],
    ] as const) {
      for (const [label, { id, lease }] of Object.entries(forged)) {
        statuses[`${name} ack, ${label}`] = (await server.http().post(`/work/${id}/ack`).send({ domain, lease })).status;
      }
      statuses[`${name} nack, stale lease`] = (await server.http().post(`/work/${stale.id}/nack`).send({ domain, lease: stale.lease, reason: 'late' })).status;
    }
    const realAck = (await a.http().post(`/work/${redelivered.id}/ack`).send({ domain, lease: redelivered.lease })).status;
    const ackedAgain = (await b.http().post(`/work/${redelivered.id}/ack`).send({ domain, lease: redelivered.lease })).status;
    await a.http().post(`/work/${other.id}/ack`).send({ domain, lease: other.lease }).expect(200);

    // Assert
    expect(Object.values(statuses).every((status) => status === 409) ? 'all 409' : statuses).toBe('all 409');
    expect({ redelivered: redelivered.id, attempts: redelivered.attempts, realAck, ackedAgain }).toEqual({ redelivered: stale.id, attempts: 2, realAck: 200, ackedAgain: 409 });
    // From the queue itself: GET /queues serves the coordinator's last sample, taken before this test's items.
    const queues = await b.app.get(KanbanQueue).depth();
    expect(queues.filter((queue) => queue.domain === domain).every((queue) => queue.ready === 0 && queue.inFlight === 0)).toBe(true);
  });
});
