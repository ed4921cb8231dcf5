import { KanbanQueue } from '@tps/kanban';
import { startPrivateNatsServer, type PrivateNatsServer } from '../harness';
import { HOSTILE_IDS } from './support/hostile-inputs';
import { startServer, type ServerUnderTest } from './support/server-under-test';

const DOMAIN = 'ledger';

/**
 * A dead letter's id becomes the last token of its NATS subject (`{prefix}.dlq.{domain}.{id}`).
 * An id that is a wildcard must find nothing: not read, replay or purge other dead letters.
 */
describe('dead-letter ids that read as subject wildcards (nats, over HTTP)', () => {
  let nats: PrivateNatsServer;
  let server: ServerUnderTest;
  let kept: string[];

  const deadLetterOne = async (n: number): Promise<string> => {
    await server.http().post('/work').send({ priority: 'normal', domain: DOMAIN, payload: { n }, deadlineMs: 60_000 }).expect(201);
    const [item] = (await server.http().post('/work/pull').send({ domain: DOMAIN, max: 1 }).expect(200)).body;
    await server.http().post(`/work/${item.id}/nack`).send({ domain: DOMAIN, lease: item.lease, reason: 'kept for the test' }).expect(200);
    return item.id;
  };

  beforeAll(async () => {
    nats = await startPrivateNatsServer();
    server = await startServer({ KANBAN_NATS_SERVERS: nats.url, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '600000' });
  });

  beforeEach(async () => {
    // Each case starts from the same state: no item waiting, exactly two dead letters.
    for (let round = 0; round < 10; round++) {
      const items = (await server.http().post('/work/pull').send({ domain: DOMAIN, max: 100 }).expect(200)).body as Array<{ id: string; lease: string }>;
      if (items.length === 0) break;
      for (const item of items) await server.http().post(`/work/${item.id}/ack`).send({ domain: DOMAIN, lease: item.lease }).expect(200);
    }
    const listed = (await server.http().get('/dead-letters').expect(200)).body.items as Array<{ id: string }>;
    for (const { id } of listed) await server.http().delete(`/dead-letters/${id}`).expect(204);
    kept = [await deadLetterOne(1), await deadLetterOne(2)];
  });

  afterAll(async () => {
    await server?.close();
    await nats?.stop();
  });

  it.each(HOSTILE_IDS)('GET, replay and DELETE of an id with %s find nothing and leave every dead letter in place', async (_label, id) => {
    // Arrange
    const path = `/dead-letters/${encodeURIComponent(id)}`;

    // Act
    const read = await server.http().get(path);
    const replayed = await server.http().post(`${path}/replay`);
    const purged = await server.http().delete(path);

    // Assert: in one comparison, so a failure shows the answers and what is left of the dead letters together.
    const listed = (await server.http().get('/dead-letters').query({ domain: DOMAIN }).expect(200)).body.items as Array<{ id: string }>;
    const waiting = (await server.app.get(KanbanQueue).depth()).reduce((n, q) => n + q.ready, 0);
    expect({ read: read.status, replayed: replayed.status, purged: purged.status, deadLetters: listed.map((l) => l.id).sort(), waiting }).toEqual({
      read: 404,
      replayed: 404,
      purged: 404,
      deadLetters: [...kept].sort(),
      waiting: 0,
    });
  });
});
