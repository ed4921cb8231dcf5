import { startTestServer, type TestServer } from './support/test-server';

const LIMIT = 3;

/** Sends GET /queues as `forwardedFor` (an X-Forwarded-For header) until refused; the statuses seen. */
async function untilRefused(server: TestServer, forwardedFor: () => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT * 3 && !statuses.includes(429); i++) {
    statuses.push((await server.http().get('/queues').set('X-Forwarded-For', forwardedFor())).status);
  }
  return statuses;
}

let spoofed = 0;
const anyAddress = (): string => `198.51.100.${++spoofed % 250}`;

/** Behind a reverse proxy every request comes from the proxy: KANBAN_TRUST_PROXY makes the rate limit per client again. */
describe('Rate limit behind a proxy', () => {
  describe('with KANBAN_TRUST_PROXY=loopback', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_RATE_LIMIT_PER_SECOND: String(LIMIT), KANBAN_TRUST_PROXY: 'loopback' });
    });

    afterAll(async () => {
      await server.close();
    });

    it('limits each client by the address the proxy saw, not the proxy itself', async () => {
      const first = await untilRefused(server, () => '203.0.113.1');

      const other = await server.http().get('/queues').set('X-Forwarded-For', '203.0.113.2');

      expect(first.at(-1)).toBe(429);
      expect(other.status).toBe(200);
    });

    it('limits a client that puts made-up addresses before the one its proxy appends', async () => {
      const statuses = await untilRefused(server, () => `${anyAddress()}, 203.0.113.3`);

      expect(statuses.at(-1)).toBe(429);
    });
  });

  describe('without KANBAN_TRUST_PROXY', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_RATE_LIMIT_PER_SECOND: String(LIMIT) });
    });

    afterAll(async () => {
      await server.close();
    });

    it('ignores X-Forwarded-For, which any client can set', async () => {
      const statuses = await untilRefused(server, anyAddress);

      expect(statuses.at(-1)).toBe(429);
    });
  });
});
