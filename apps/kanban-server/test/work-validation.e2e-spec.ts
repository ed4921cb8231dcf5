import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

interface FieldErrorBody {
  field: string;
  message: string;
}

function fieldsOf(body: { fields?: FieldErrorBody[] }): string[] {
  return (body.fields ?? []).map((f) => f.field).sort();
}

/** Every way a `POST /work` (and a pull or settle) can be wrong gives 400 listing each bad field. */
describe('Validation errors over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_MAX_PAYLOAD_BYTES: '1024' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('lists every bad field of POST /work together, in the 400 shape', async () => {
    const response = await server
      .http()
      .post('/work')
      .send({ priority: 'urgent', domain: 'Bad.Domain', deadline: 'tomorrow', idempotencyKey: 7, headers: ['x'], extra: true })
      .expect(400);

    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(fieldsOf(response.body)).toEqual(['deadline', 'domain', 'extra', 'headers', 'idempotencyKey', 'payload', 'priority']);
    expect(response.body.message).toHaveLength(7);
    expect(response.body.message).toEqual(expect.arrayContaining(['priority must be one of high, normal, low', 'extra is not an accepted field']));
  });

  it.each([
    ['a dot', 'a.b'],
    ['a wildcard', '*'],
    ['a full wildcard', '>'],
    ['a space', 'has space'],
    ['CR/LF with an injected PUB', 'a\r\nPUB kanban.high.x 1\r\nx'],
    ['64 characters', `a${'b'.repeat(63)}`],
    ['non-ASCII', 'café'],
    ['a JetStream API subject', '$JS.API.STREAM.DELETE.x'],
    ['an upper-case letter', 'Billing'],
    ['an empty string', ''],
    ['a number', 42],
  ])('rejects a domain with %s', async (_case, domain) => {
    const response = await server.http().post('/work').send(workBody({ domain })).expect(400);

    expect(fieldsOf(response.body)).toEqual(['domain']);
  });

  it('accepts a domain of exactly 63 characters', async () => {
    await server
      .http()
      .post('/work')
      .send(workBody({ domain: `a${'b'.repeat(62)}` }))
      .expect(201);
  });

  it('rejects a deadline in the past', async () => {
    const response = await server
      .http()
      .post('/work')
      .send(workBody({ deadlineMs: undefined, deadline: Date.now() - 1000 }))
      .expect(400);

    expect(response.body.fields).toEqual([{ field: 'deadline', message: 'must be in the future' }]);
  });

  it('rejects a deadline and a deadlineMs together, and neither', async () => {
    const both = await server
      .http()
      .post('/work')
      .send(workBody({ deadline: Date.now() + 60_000 }))
      .expect(400);
    const neither = await server
      .http()
      .post('/work')
      .send(workBody({ deadlineMs: undefined }))
      .expect(400);

    expect(both.body.fields).toEqual([{ field: 'deadline', message: 'give deadline or deadlineMs, not both' }]);
    expect(neither.body.fields).toEqual([{ field: 'deadline', message: 'is required (or deadlineMs)' }]);
  });

  it('rejects a payload over KANBAN_MAX_PAYLOAD_BYTES with the same 400 shape', async () => {
    const response = await server
      .http()
      .post('/work')
      .send(workBody({ payload: 'x'.repeat(2000) }))
      .expect(400);

    expect(response.body.fields).toEqual([{ field: 'payload', message: expect.stringContaining('the limit is 1024') }]);
  });

  it('accepts null and scalars as payloads', async () => {
    for (const payload of [null, 0, false, 'text', []]) {
      await server.http().post('/work').send(workBody({ payload })).expect(201);
    }
  });

  it('applies the library rules on headers and idempotency keys with the same 400 shape', async () => {
    const response = await server
      .http()
      .post('/work')
      .send(workBody({ headers: { 'bad name': 'x', ok: 'line\r\nbreak' }, idempotencyKey: 'has space' }))
      .expect(400);

    expect(fieldsOf(response.body)).toEqual(['headers.bad name', 'headers.ok', 'idempotencyKey']);
  });

  it('lists every bad field of a pull', async () => {
    const response = await server.http().post('/work/pull').send({ domain: 'a b', priority: 'soon', max: 0, waitMs: 60_000, lease: 'x' }).expect(400);

    expect(fieldsOf(response.body)).toEqual(['domain', 'lease', 'max', 'priority', 'waitMs']);
  });

  it('lists every bad field of an ack and a nack', async () => {
    const ack = await server.http().post('/work/some-id/ack').send({}).expect(400);
    const nack = await server.http().post('/work/some-id/nack').send({ domain: 'billing', lease: 'x', reason: '' }).expect(400);

    expect(fieldsOf(ack.body)).toEqual(['domain', 'lease']);
    expect(fieldsOf(nack.body)).toEqual(['reason']);
  });

  it('rejects a lease that pull never issued', async () => {
    const response = await server.http().post('/work/some-id/ack').send({ domain: 'billing', lease: 'not-a-lease' }).expect(400);

    expect(response.body.fields).toEqual([{ field: 'lease', message: 'must be the lease returned with the pulled item' }]);
  });
});
