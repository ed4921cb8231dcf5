import { KanbanQueue } from '@tps/kanban';
import { startPrivateNatsServer, type PrivateNatsServer } from '../harness';
import { postBytes, postChunked } from './support/raw-http';
import { startServer, type ServerUnderTest } from './support/server-under-test';

/** The default KANBAN_MAX_PAYLOAD_BYTES (512 KiB); the server's body limit adds 64 KiB for the other fields. */
const MAX_PAYLOAD_BYTES = 512 * 1024;
const TEN_MB = 10 * 1024 * 1024;
/**
 * The server runs in this process, so RSS counts the test's own buffers and the allocator's high-water
 * mark too (about 40-100 MB measured here, flat however many rounds). The rounds send 240 MB in all,
 * so a server that kept the hostile bodies would pass this generous bound.
 */
const RSS_GROWTH_BOUND_BYTES = 200 * 1024 * 1024;
const HOSTILE_ROUNDS = 12;

function envelope(domain: string, payloadJson: string): string {
  return `{"priority":"normal","domain":"${domain}","deadlineMs":60000,"payload":${payloadJson}}`;
}

/** Payload sizes at the edge, bodies far over it, and bytes that are not UTF-8 JSON: 201, 400, 413 or 415, bounded memory, still healthy. */
describe('payload edge cases over HTTP (nats)', () => {
  let nats: PrivateNatsServer;
  let server: ServerUnderTest;

  // Read from the queue itself: GET /queues serves the coordinator's last sample, which may predate the request.
  const stored = async (domain: string): Promise<number> => (await server.app.get(KanbanQueue).depth()).filter((q) => q.domain === domain).reduce((n, q) => n + q.ready, 0);

  beforeAll(async () => {
    nats = await startPrivateNatsServer();
    server = await startServer({ KANBAN_NATS_SERVERS: nats.url });
  });

  afterAll(async () => {
    await server?.close();
    await nats?.stop();
  });

  it('accepts a payload of exactly KANBAN_MAX_PAYLOAD_BYTES encoded, and gives it back whole', async () => {
    // Arrange: a JSON string of n characters encodes to n + 2 bytes.
    const payload = 'x'.repeat(MAX_PAYLOAD_BYTES - 2);

    // Act
    const published = await server.http().post('/work').send({ priority: 'normal', domain: 'atlimit', payload, deadlineMs: 60_000 });
    const pulled = await server.http().post('/work/pull').send({ domain: 'atlimit', max: 1 }).expect(200);

    // Assert
    expect(published.status).toBe(201);
    expect(pulled.body[0].payload).toBe(payload);
  });

  it('refuses a payload one byte over with 400 naming the payload, and stores nothing', async () => {
    // Arrange
    const payload = 'x'.repeat(MAX_PAYLOAD_BYTES - 1);

    // Act
    const response = await server.http().post('/work').send({ priority: 'normal', domain: 'overlimit', payload, deadlineMs: 60_000 });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.fields).toEqual([{ field: 'payload', message: expect.stringContaining(`the limit is ${MAX_PAYLOAD_BYTES}`) }]);
    expect(await stored('overlimit')).toBe(0);
  });

  it.each([
    ['a byte that starts no character (0xFF) in a string', Buffer.from([0xff])],
    ['an overlong encoding of "/" (0xC0 0xAF)', Buffer.from([0xc0, 0xaf])],
    ['an encoded UTF-16 surrogate (0xED 0xA0 0x80)', Buffer.from([0xed, 0xa0, 0x80])],
    ['a truncated sequence (0xE2 0x82)', Buffer.from([0xe2, 0x82])],
  ])('refuses a JSON body holding invalid UTF-8, %s, with 400 and stores nothing', async (_label, bad) => {
    // Arrange
    const [head, tail] = envelope('utf', '"before<bad>after"').split('<bad>');
    const body = Buffer.concat([Buffer.from(head), bad, Buffer.from(tail)]);

    // Act
    const response = await postBytes(server.url, '/work', body, 'application/json');

    // Assert
    expect(response.status).toBe(400);
    expect(await stored('utf')).toBe(0);
  });

  it.each([
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['application/octet-stream', 'application/octet-stream'],
    ['application/xml', 'application/xml'],
    ['JSON declared as latin1', 'application/json; charset=latin1'],
    ['JSON declared as UTF-16', 'application/json; charset=utf-16'],
    ['no Content-Type at all', undefined],
  ])('refuses a JSON body sent as %s with 400 or 415 and stores nothing', async (_label, contentType) => {
    // Arrange
    const body = Buffer.from(envelope('ctype', '{"n":1}'));

    // Act
    const response = await postBytes(server.url, '/work', body, contentType);

    // Assert
    expect([400, 415]).toContain(response.status);
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: response.status });
    expect(await stored('ctype')).toBe(0);
  });

  it('answers 413 to 10 MB bodies, with a length or chunked without one, keeps RSS bounded and stays healthy', async () => {
    // Arrange
    const declared = Buffer.from(envelope('huge', `"${'x'.repeat(TEN_MB)}"`));
    const head = envelope('huge', '"').slice(0, -2);
    const rssBefore = process.memoryUsage().rss;
    const statuses: number[] = [];

    // Act
    for (let round = 0; round < HOSTILE_ROUNDS; round++) {
      statuses.push((await postBytes(server.url, '/work', declared, 'application/json')).status);
      statuses.push((await postChunked(server.url, '/work', head, TEN_MB)).status);
    }
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    // Assert
    expect(statuses).toEqual(Array(HOSTILE_ROUNDS * 2).fill(413));
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
    await server.http().get('/health').expect(200);
    await server.http().post('/work').send({ priority: 'low', domain: 'after', payload: 1, deadlineMs: 60_000 }).expect(201);
    expect(await stored('huge')).toBe(0);
  });
});
