import { startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

const TOKEN = 'host-token-0123456789abcdef';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/**
 * DNS rebinding: a page on attacker.example whose name is rebound to 127.0.0.1 reaches the server
 * with `Host: attacker.example`. Only Host names the server answers to get through.
 */
describe('Host allowlist (DNS rebinding)', () => {
  describe('without a token', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_ALLOWED_HOSTS: 'kanban.internal, Ops.Example' });
    });

    afterAll(async () => {
      await server.close();
    });

    it.each([
      ['POST', '/work'],
      ['GET', '/queues'],
      ['GET', '/health'],
    ])('refuses %s %s for a Host name it does not answer to, with 403 and a stable code', async (method, path) => {
      const request =
        method === 'POST'
          ? server
              .http()
              .post(path)
              .send(workBody({ domain: 'rebound' }))
          : server.http().get(path);

      const response = await request.set('Host', 'attacker.example');

      expect(response.status).toBe(403);
      expect(response.body).toEqual({ statusCode: 403, error: 'Forbidden', code: 'host_not_allowed', message: expect.any(String) });
    });

    it('stores nothing for a refused publish', async () => {
      await server
        .http()
        .post('/work')
        .set('Host', 'attacker.example:3000')
        .send(workBody({ domain: 'rebound-store' }))
        .expect(403);

      const pulled = await server.http().post('/work/pull').send({ domain: 'rebound-store' }).expect(200);

      expect(pulled.body).toEqual([]);
    });

    it.each(['localhost', 'localhost:3000', '127.0.0.1:3000', '127.8.9.10', '[::1]:3000', '192.0.2.7:3000', 'kanban.internal', 'KANBAN.internal:8080', 'ops.example'])(
      'serves Host %s (loopback, an IP address, or listed in KANBAN_ALLOWED_HOSTS)',
      async (host) => {
        await server
          .http()
          .post('/work')
          .set('Host', host)
          .send(workBody({ domain: 'allowed' }))
          .expect(201);
      },
    );

    it.each(['kanban.internal.attacker.example', 'localhost.attacker.example', 'evil-localhost', '10.1.2.3.nip.io'])('refuses Host %s, which only looks allowed', async (host) => {
      await server.http().get('/queues').set('Host', host).expect(403);
    });
  });

  describe('with a token and no KANBAN_ALLOWED_HOSTS', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_API_TOKEN: TOKEN });
    });

    afterAll(async () => {
      await server.close();
    });

    it('serves any Host name, as behind a load balancer: the token guards the API', async () => {
      await server
        .http()
        .post('/work')
        .set('Host', 'kanban.example.com')
        .set(AUTH)
        .send(workBody({ domain: 'balanced' }))
        .expect(201);
      await server
        .http()
        .post('/work')
        .set('Host', 'kanban.example.com')
        .send(workBody({ domain: 'balanced' }))
        .expect(401);
    });
  });

  describe('with a token and KANBAN_ALLOWED_HOSTS', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_API_TOKEN: TOKEN, KANBAN_ALLOWED_HOSTS: 'kanban.example.com' });
    });

    afterAll(async () => {
      await server.close();
    });

    it('serves the listed names and refuses any other, token or not', async () => {
      await server
        .http()
        .post('/work')
        .set('Host', 'kanban.example.com')
        .set(AUTH)
        .send(workBody({ domain: 'listed' }))
        .expect(201);

      const refused = await server
        .http()
        .post('/work')
        .set('Host', 'other.example.com')
        .set(AUTH)
        .send(workBody({ domain: 'listed' }));

      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'host_not_allowed' });
    });
  });
});
