import { GroupsUnsupportedError, kanbanErrorResponse } from '@tps/kanban';
import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

const OPERATOR_TOKEN = 'groups-operator-0123456789abcdef';
const READ_ONLY_TOKEN = 'groups-read-only-0123456789abcdef';
const OPERATOR = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
const READ_ONLY = { Authorization: `Bearer ${READ_ONLY_TOKEN}` };

/** Logs in through the dashboard; returns the Cookie header and the CSRF value to send back. */
async function login(server: TestServer, token: string): Promise<{ cookie: string; csrf: string }> {
  const response = await server.http().post('/dashboard/session').send({ token }).expect(200);
  const cookie = ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0])
    .join('; ');
  return { cookie, csrf: /kanban_csrf=([^;]+)/.exec(cookie)?.[1] ?? '' };
}

describe('GET /groups/:domain and PUT /groups/:domain/:group/limits', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN }, 'embedded', false);
  });

  afterAll(async () => {
    await server?.close();
  });

  it("sets a group's limits, answers its state, lists the domain's groups a page at a time, and clears the limits with {}", async () => {
    // Arrange
    const domain = server.domain('tenants');
    for (const group of ['merchant-a', 'merchant-a', 'merchant-b', 'merchant-c']) {
      await server.http().post('/work').set(OPERATOR).send(workBody({ domain, group })).expect(201);
    }

    // Act
    const set = await server.http().put(`/groups/${domain}/merchant-a/limits`).set(OPERATOR).send({ maxInFlight: 2, ratePerSecond: 1.5 });
    const first = await server.http().get(`/groups/${domain}`).query({ limit: 2 }).set(OPERATOR);
    const second = await server.http().get(`/groups/${domain}`).query({ limit: 2, cursor: first.body.nextCursor }).set(OPERATOR);
    const cleared = await server.http().put(`/groups/${domain}/merchant-a/limits`).set(OPERATOR).send({});

    // Assert
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ group: 'merchant-a', ready: 2, inFlight: 0, limits: { maxInFlight: 2, ratePerSecond: 1.5 }, override: { maxInFlight: 2, ratePerSecond: 1.5 } });
    expect(first.status).toBe(200);
    expect(first.body.items.map((state: { group: string }) => state.group)).toEqual(['merchant-a', 'merchant-b']);
    expect(second.body.items.map((state: { group: string }) => state.group)).toEqual(['merchant-c']);
    expect(second.body.nextCursor).toBeUndefined();
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ group: 'merchant-a', ready: 2, inFlight: 0, limits: {} });
  });

  it.each([
    ['a zero maxInFlight', 'billing', 'merchant-a', { maxInFlight: 0 }, ['maxInFlight']],
    ['a ratePerSecond given as text', 'billing', 'merchant-a', { ratePerSecond: '5' }, ['ratePerSecond']],
    ['an unknown limit', 'billing', 'merchant-a', { window: 5 }, ['window']],
    ['a domain with upper case', 'Billing', 'merchant-a', {}, ['domain']],
    ['a group with upper case', 'billing', 'Merchant', {}, ['group']],
  ])('answers 400 naming the field for %s', async (_label, domain, group, body, fields) => {
    // Act
    const response = await server.http().put(`/groups/${domain}/${group}/limits`).set(OPERATOR).send(body);

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.fields.map((f: { field: string }) => f.field)).toEqual(fields);
  });

  it.each([
    ['a zero limit', { limit: '0' }, ['limit']],
    ['a limit above the largest page', { limit: '1001' }, ['limit']],
    ['an empty cursor', { cursor: '' }, ['cursor']],
  ])('answers 400 on GET naming the field for %s', async (_label, query, fields) => {
    // Act
    const response = await server.http().get('/groups/billing').query(query).set(OPERATOR);

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.fields.map((f: { field: string }) => f.field)).toEqual(fields);
  });

  it('needs the token for both routes, serves GET to the read-only token and refuses it PUT', async () => {
    // Act
    const anonymousGet = await server.http().get('/groups/billing');
    const anonymousPut = await server.http().put('/groups/billing/merchant-a/limits').send({ maxInFlight: 1 });
    const readOnlyGet = await server.http().get('/groups/billing').set(READ_ONLY);
    const readOnlyPut = await server.http().put('/groups/billing/merchant-a/limits').set(READ_ONLY).send({ maxInFlight: 1 });

    // Assert
    expect(anonymousGet.status).toBe(401);
    expect(anonymousPut.status).toBe(401);
    expect(readOnlyGet.status).toBe(200);
    expect(readOnlyPut.status).toBe(403);
    expect(readOnlyPut.body.code).toBe('read_only');
  });

  it("accepts the dashboard's session cookie, on PUT only with its CSRF header", async () => {
    // Arrange
    const { cookie, csrf } = await login(server, OPERATOR_TOKEN);
    const domain = server.domain('session-groups');

    // Act
    const read = await server.http().get(`/groups/${domain}`).set('Cookie', cookie);
    const withoutCsrf = await server.http().put(`/groups/${domain}/merchant-a/limits`).set('Cookie', cookie).send({ maxInFlight: 1 });
    const withCsrf = await server.http().put(`/groups/${domain}/merchant-a/limits`).set('Cookie', cookie).set('x-kanban-csrf', csrf).send({ maxInFlight: 1 });

    // Assert
    expect(read.status).toBe(200);
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.body.code).toBe('csrf');
    expect(withCsrf.status).toBe(200);
    expect(withCsrf.body).toMatchObject({ group: 'merchant-a', override: { maxInFlight: 1 } });
  });
});

describe('a transport without group state', () => {
  it('answers 501 groups_unsupported, naming the broker', () => {
    // Act
    const { status, body } = kanbanErrorResponse(new GroupsUnsupportedError('rabbitmq'));

    // Assert
    expect(status).toBe(501);
    expect(body).toMatchObject({ statusCode: 501, error: 'Not Implemented', code: 'groups_unsupported' });
    expect(body.message).toContain('rabbitmq');
  });
});
