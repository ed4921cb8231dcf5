import request from 'supertest';
import { EnvironmentError, loadServerConfig } from '../../apps/kanban-server/src/config';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { publishAndPull, workBody } from '../../apps/kanban-server/test/support/work-requests';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
const READ_ONLY_TOKEN = 'read-only-token-0123456789abcdef';
const TOKENS = { KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN };
const BEARER = { Authorization: `Bearer ${OPERATOR_TOKEN}` };

interface Session {
  cookie: string;
  csrf: string;
}

/** Logs in through the dashboard's login endpoint; returns the Cookie header and the CSRF value to send back. */
async function login(server: TestServer, token: string): Promise<Session> {
  const response = await server.http().post('/dashboard/session').send({ token }).expect(200);
  const setCookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const cookie = setCookies.map((line) => line.split(';')[0]).join('; ');
  const csrf = /kanban_csrf=([^;]+)/.exec(cookie)?.[1] ?? '';
  return { cookie, csrf };
}

describe('dashboard sessions: a signed cookie any instance accepts, CSRF-safe mutations, a read-only role', () => {
  let server: TestServer;
  let replica: TestServer;

  beforeAll(async () => {
    server = await startTestServer(TOKENS, 'embedded', false);
    replica = await startTestServer(TOKENS, 'embedded', false);
  });

  afterAll(async () => {
    await server?.close();
    await replica?.close();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie for the API token and refuses a wrong token', async () => {
    const accepted = await server.http().post('/dashboard/session').send({ token: OPERATOR_TOKEN }).expect(200);
    const refused = await server.http().post('/dashboard/session').send({ token: 'not-the-token-0123456789' });

    const session = ([] as string[]).concat(accepted.headers['set-cookie'] ?? []).find((line) => line.startsWith('kanban_session='));
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; SameSite=Strict/i);
    expect(accepted.body).toEqual({ role: 'operator' });
    expect(refused.status).toBe(401);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('accepts the session cookie as the token on reads, and on mutations only with the CSRF header', async () => {
    const { cookie, csrf } = await login(server, OPERATOR_TOKEN);
    const domain = server.domain('session');

    const read = await server.http().get('/dead-letters').set('Cookie', cookie);
    const withoutCsrf = await server.http().post('/work').set('Cookie', cookie).send(workBody({ domain }));
    const wrongCsrf = await server.http().post('/work').set('Cookie', cookie).set('x-kanban-csrf', `${csrf}x`).send(workBody({ domain }));
    const withCsrf = await server.http().post('/work').set('Cookie', cookie).set('x-kanban-csrf', csrf).send(workBody({ domain }));

    expect(read.status).toBe(200);
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.body.code).toBe('csrf');
    expect(wrongCsrf.status).toBe(403);
    expect(withCsrf.status).toBe(201);
  });

  it('accepts a session signed by another instance with the same token (replicas behind a load balancer)', async () => {
    const { cookie } = await login(server, OPERATOR_TOKEN);

    const onReplica = await replica.http().get('/dashboard/session').set('Cookie', cookie);

    expect(onReplica.status).toBe(200);
    expect(onReplica.body).toEqual({ role: 'operator', authRequired: true });
  });

  it('refuses a tampered session cookie', async () => {
    const { cookie } = await login(server, READ_ONLY_TOKEN);
    const forged = cookie.replace('kanban_session=read_only.', 'kanban_session=operator.');

    const response = await server.http().get('/dead-letters').set('Cookie', forged);

    expect(forged).not.toBe(cookie);
    expect(response.status).toBe(401);
  });

  it('lets the read-only token see everything and change nothing, by bearer or by session', async () => {
    const domain = server.domain('read-only');
    const item = await publishAndPull(server, { domain }, BEARER);
    await server.http().post(`/work/${item.id}/nack`).set(BEARER).send({ domain, lease: item.lease, reason: 'declined' }).expect(200);
    const session = await login(server, READ_ONLY_TOKEN);

    const listed = await server.http().get('/dead-letters').query({ domain }).set('Cookie', session.cookie);
    const purgeBySession = await server.http().delete(`/dead-letters/${item.id}`).set('Cookie', session.cookie).set('x-kanban-csrf', session.csrf);
    const purgeByBearer = await server.http().delete(`/dead-letters/${item.id}`).set('Authorization', `Bearer ${READ_ONLY_TOKEN}`);
    const publish = await server.http().post('/work').set('Authorization', `Bearer ${READ_ONLY_TOKEN}`).send(workBody({ domain }));
    const still = await server.http().get(`/dead-letters/${item.id}`).set(BEARER);

    expect(listed.status).toBe(200);
    expect(listed.body.items.map((letter: { id: string }) => letter.id)).toEqual([item.id]);
    for (const refused of [purgeBySession, purgeByBearer, publish]) {
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('read_only');
    }
    expect(still.status).toBe(200);
  });

  it('finds dead letters by payload text with a bounded scan and a cursor', async () => {
    const domain = server.domain('search');
    const ids: string[] = [];
    for (const note of ['alpha', 'needle one', 'beta', 'NEEDLE two', 'gamma']) {
      const item = await publishAndPull(server, { domain, payload: { note } }, BEARER);
      await server.http().post(`/work/${item.id}/nack`).set(BEARER).send({ domain, lease: item.lease, reason: 'declined' }).expect(200);
      ids.push(item.id);
    }

    const first = await server.http().get('/dead-letters').query({ domain, text: 'needle', limit: 1 }).set(BEARER).expect(200);
    const second = await server.http().get('/dead-letters').query({ domain, text: 'needle', limit: 1, cursor: first.body.nextCursor }).set(BEARER).expect(200);
    const byId = await server.http().get('/dead-letters').query({ domain, text: ids[4] }).set(BEARER).expect(200);

    expect(first.body.items.map((letter: { id: string }) => letter.id)).toEqual([ids[1]]);
    expect(second.body.items.map((letter: { id: string }) => letter.id)).toEqual([ids[3]]);
    expect(byId.body.items.map((letter: { id: string }) => letter.id)).toEqual([ids[4]]);
  });

  it('serves the dashboard page without a CDN, under a same-origin CSP that also works on plain HTTP', async () => {
    const page = await request(server.url).get('/dashboard').expect(200);
    const policy = String(page.headers['content-security-policy']);

    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    // A browser would otherwise fetch the script and styles of an http:// server over https://.
    expect(policy).not.toContain('upgrade-insecure-requests');
  });
});

describe('dashboard without a token: loopback only, as the API', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, 'embedded', false);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('treats the loopback caller as the operator, without a login', async () => {
    const session = await server.http().get('/dashboard/session').expect(200);

    expect(session.body).toEqual({ role: 'operator', authRequired: false });
  });

  it('refuses a read-only token without an API token, or equal to it', () => {
    const alone = () => loadServerConfig({ KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN });
    const same = () => loadServerConfig({ KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: OPERATOR_TOKEN });

    expect(alone).toThrow(EnvironmentError);
    expect(alone).toThrow(/KANBAN_READONLY_TOKEN/);
    expect(same).toThrow(/KANBAN_READONLY_TOKEN/);
  });
});
