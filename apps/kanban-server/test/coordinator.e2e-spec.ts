import { startTestServer, type TestServer } from './support/test-server';

describe('Coordinator over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it("serves the spec's health shape", async () => {
    const response = await server.http().get('/coordinator/health').expect(200);

    expect(response.body).toMatchObject({
      current_workers: expect.any(Number),
      target_workers: expect.any(Number),
      queue_depth_samples: expect.any(Array),
      queue_draining: false,
      timestamp: expect.any(Number),
      broker: { active: 'embedded', state: 'up' },
    });
  });

  it('shows the fleet beside this instance: on the embedded store, this instance alone and its sweep leader', async () => {
    const response = await server.http().get('/coordinator/health').expect(200);

    const { fleet } = response.body as {
      fleet: { instances: Array<{ id: string; pid: number; draining: boolean; sweep_leader: boolean; current_workers: number }>; sweep_leader: string; total_workers: number; depth: number | null };
    };
    expect(fleet.instances).toHaveLength(1);
    expect(fleet.instances[0]).toMatchObject({ pid: process.pid, draining: false, sweep_leader: true, current_workers: response.body.current_workers });
    expect(fleet.sweep_leader).toBe(fleet.instances[0].id);
    expect(fleet.total_workers).toBe(response.body.current_workers);
  });

  it('adjusts the workers per handler with 200 and the resulting health', async () => {
    const response = await server.http().post('/coordinator/workers').send({ count: 2 }).expect(200);

    expect(response.body).toMatchObject({ queue_draining: false, current_workers: expect.any(Number) });
  });

  it.each([
    ['a negative count', { count: -1 }, 'must be a non-negative integer'],
    ['a count above maxWorkers', { count: 11 }, 'must be an integer from 0 to maxWorkers (10)'],
    ['no count', {}, 'must be a non-negative integer'],
  ])('answers 400 for %s', async (_case, body, message) => {
    const response = await server.http().post('/coordinator/workers').send(body).expect(400);

    expect(response.body.fields).toEqual([{ field: 'count', message }]);
  });
});
