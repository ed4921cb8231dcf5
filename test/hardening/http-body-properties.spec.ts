import fc from 'fast-check';
import { KanbanQueue } from '@tps/kanban';
import { startPrivateNatsServer, type PrivateNatsServer } from '../harness';
import { publishRequestLike } from './support/arbitraries';
import { startServer, type ServerUnderTest } from './support/server-under-test';

const RUNS = 300;
/** A few valid domains only: every accepted item declares its queue's stream on the broker. */
const DOMAINS = ['billing', 'orders', 'shipping'];
const ANSWERS = [201, 400, 413];
const STACK_TRACE = /\bat .+:\d+:\d+|node_modules|\.ts:\d+/;

/** JSON text of a value; a BigInt is written as its digits, as a client's serializer would. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

const bodies = fc.oneof(
  { arbitrary: publishRequestLike(fc.constantFrom(...DOMAINS)).map(jsonText), weight: 6 },
  { arbitrary: fc.jsonValue().map(jsonText), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '{"__proto__":{"priority":"high","domain":"billing","payload":1,"deadlineMs":1000,"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}},"priority":"high","domain":"billing","payload":1,"deadlineMs":1000}',
      '{"priority":"high","domain":"billing","payload":1,"deadlineMs":1000,"__proto__":{"polluted":true}}',
    ),
    weight: 1,
  },
);

/** Whatever JSON a client sends to POST /work, the answer is 201 or a 4xx it can act on, never a 500, and the server stays up. */
describe('POST /work with random bodies, property-based', () => {
  let nats: PrivateNatsServer;
  let server: ServerUnderTest;

  beforeAll(async () => {
    nats = await startPrivateNatsServer();
    server = await startServer({ KANBAN_NATS_SERVERS: nats.url, KANBAN_MAX_PAYLOAD_BYTES: '512' });
  });

  afterAll(async () => {
    await server?.close();
    await nats?.stop();
  });

  it('answers 201, 400 or 413 with a JSON body and no stack trace, stores exactly the accepted items, and stays healthy', async () => {
    // Arrange
    const statuses = new Map<number, number>();
    let stored = 0;

    // Act
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await server.http().post('/work').set('content-type', 'application/json').send(body);

        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(ANSWERS).toContain(response.status);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect(response.text).not.toMatch(STACK_TRACE);
        if (response.status === 201) {
          expect(response.body).toMatchObject({ id: expect.any(String), broker: 'nats' });
          if (!response.body.duplicate) stored++;
        } else {
          expect(response.body.statusCode).toBe(response.status);
        }
      }),
      { numRuns: RUNS },
    );

    // Assert
    // From the queue itself: GET /queues serves the coordinator's last sample, which may predate the publishes.
    const ready = (await server.app.get(KanbanQueue).depth()).reduce((n, q) => n + q.ready, 0);
    await server.http().get('/health').expect(200);
    expect(ready).toBe(stored);
    expect(statuses.get(201)).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(400)).toBeGreaterThan(RUNS / 20);
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});
