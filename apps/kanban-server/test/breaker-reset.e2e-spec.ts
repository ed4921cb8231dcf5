import { startTestServer, type TestServer } from './support/test-server';

const TOKEN = 'e2e-token-0123456789abcdef';

describe('POST /coordinator/breakers/reset', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 401 without the token', async () => {
    const response = await server.http().post('/coordinator/breakers/reset');

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="kanban"');
  });

  it('closes the open breakers with the token and says how many it closed', async () => {
    const response = await server.http().post('/coordinator/breakers/reset').set('Authorization', `Bearer ${TOKEN}`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ closed: 0 });
  });
});
