import { startTestServer, type TestServer } from './support/test-server';

const LIMIT = 5;

describe('Rate limit', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_RATE_LIMIT_PER_SECOND: String(LIMIT) });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After past KANBAN_RATE_LIMIT_PER_SECOND requests in a second', async () => {
    const statuses: number[] = [];
    let refused: { headers: Record<string, string>; body: unknown } | undefined;
    for (let i = 0; i < LIMIT * 3 && !refused; i++) {
      const response = await server.http().get('/queues');
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }

    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
    expect(refused?.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message: expect.stringContaining(`at most ${LIMIT} per second`) });
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
