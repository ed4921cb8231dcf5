import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

const MAX_PAYLOAD_BYTES = 4096;
/** The server adds 64 KiB around the payload limit for the other fields. */
const BODY_LIMIT_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024;

/** JSON text of arrays nested `depth` deep, built as text: JSON.stringify itself overflows on it. */
function nestedText(depth: number): string {
  return `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`;
}

function withField(name: string, jsonText: string): string {
  return JSON.stringify(workBody({ [name]: '<here>' })).replace('"<here>"', jsonText);
}

/** Hostile bodies end in a 4xx with the usual JSON shape; none reaches a stack overflow or a 500. */
describe('HTTP hardening', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES) });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 413 for a body over the limit', async () => {
    const response = await server
      .http()
      .post('/work')
      .send(workBody({ payload: 'x'.repeat(BODY_LIMIT_BYTES) }))
      .expect(413);

    expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('answers 413 for a chunked body over the limit that declares no length', async () => {
    const response = await fetch(`${server.url}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"priority":"low","domain":"billing","deadlineMs":1000,"payload":"`));
          for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(8192)));
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
        },
      }),
      duplex: 'half',
    });

    expect(response.status).toBe(413);
  });

  it('answers 400 for JSON nested 10,000 deep, and stays up', async () => {
    const deepPayload = await server
      .http()
      .post('/work')
      .set('content-type', 'application/json')
      .send(withField('payload', nestedText(10_000)))
      .expect(400);
    const deepField = await server
      .http()
      .post('/work')
      .set('content-type', 'application/json')
      .send(withField('extra', nestedText(10_000)))
      .expect(400);

    expect(deepPayload.body.message).toContain('nests deeper');
    expect(deepField.body.message).toContain('nests deeper');
    await server.http().get('/health').expect(200);
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await server.http().post('/work').set('content-type', 'application/json').send('{"priority": "high",').expect(400);

    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('answers 400 listing the missing fields for a body that is not JSON', async () => {
    const response = await server.http().post('/work').set('content-type', 'text/plain').send('priority=high').expect(400);

    expect(response.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['deadline', 'domain', 'payload', 'priority']);
  });

  it('keeps a payload byte for byte, keys a framework would strip included', async () => {
    const payloadText = `{"constructor":"kept","prototype":{"__proto__":"kept too"},"toString":1,"deep":${nestedText(100)},"text":"zß水🀄","empty":{}}`;

    await server.http().post('/work').set('content-type', 'application/json').send(withField('payload', payloadText).replace('"domain":"billing"', '"domain":"exact"')).expect(201);
    const pulled = await server.http().post('/work/pull').send({ domain: 'exact' }).expect(200);

    expect(JSON.stringify(pulled.body[0].payload)).toBe(payloadText);
  });

  it('sends security headers and no X-Powered-By', async () => {
    const response = await server.http().get('/queues').expect(200);

    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await server.http().get('/nope').expect(404);

    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it('never puts a stack trace in an error response', async () => {
    const responses = await Promise.all([
      server.http().post('/work').set('content-type', 'application/json').send('{"x":'),
      server
        .http()
        .post('/work')
        .send(workBody({ payload: 'x'.repeat(BODY_LIMIT_BYTES) })),
      server.http().post('/work/x/ack').send({ domain: 'billing', lease: 'high.nope' }),
      server.http().get('/dead-letters/none'),
    ]);

    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts:\d+/);
    }
  });
});
