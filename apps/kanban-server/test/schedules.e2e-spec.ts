import { waitFor } from '../../../test/harness/wait-for';
import { startTestServer, type TestServer } from './support/test-server';

function interval(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'interval', priority: 'normal', domain: 'ticks', intervalMs: 100, deadlineMs: 60_000, payload: { tick: true }, ...overrides };
}

describe('Schedules over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Short coordinator rounds: GET /queues serves the latest depth sample.
    server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '200' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('creates an interval schedule that publishes, lists it, and cancels it with 204', async () => {
    const created = await server.http().post('/schedules').send(interval()).expect(201);
    const { jobId } = created.body;
    await waitFor(async () => (await server.http().get('/queues')).body.ready >= 2, { timeoutMs: 5000, description: 'two ticks published' });

    const listed = await server.http().get('/schedules').expect(200);
    const one = await server.http().get(`/schedules/${jobId}`).expect(200);
    await server.http().delete(`/schedules/${jobId}`).expect(204);

    expect(created.body).toEqual({ jobId: expect.any(String) });
    expect(listed.body).toEqual([expect.objectContaining({ jobId, kind: 'interval', domain: 'ticks', intervalMs: 100 })]);
    expect(one.body.published).toBeGreaterThanOrEqual(2);
    expect((await server.http().get('/schedules').expect(200)).body).toEqual([]);
    const [item] = (await server.http().post('/work/pull').send({ domain: 'ticks', max: 1 }).expect(200)).body;
    expect(item.payload).toEqual({ tick: true });
  });

  it('creates a cron schedule under a chosen name, and refuses the same name with 409', async () => {
    const body = { type: 'cron', priority: 'low', domain: 'nightly', cron: '0 0 3 * * *', deadlineMs: 60_000, name: 'nightly-report', whenBusy: 'stretch' };

    const created = await server.http().post('/schedules').send(body).expect(201);
    const conflict = await server.http().post('/schedules').send(body).expect(409);
    await server.http().delete('/schedules/nightly-report').expect(204);

    expect(created.body).toEqual({ jobId: 'nightly-report' });
    expect(conflict.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
  });

  it.each([
    ['get', '/schedules/no-such-job'],
    ['delete', '/schedules/no-such-job'],
  ] as const)('answers 404 for %s of an unknown schedule', async (method, path) => {
    const response = await server.http()[method](path).expect(404);

    expect(response.body).toMatchObject({ statusCode: 404, message: expect.stringContaining('no-such-job') });
  });

  it('lists every bad field of a schedule', async () => {
    const response = await server
      .http()
      .post('/schedules')
      .send({ type: 'interval', priority: 'now', domain: 'a.b', cron: '* * * * *', deadlineMs: 0, whenBusy: 'panic', name: 'bad name' })
      .expect(400);

    expect(response.body.fields).toEqual(
      expect.arrayContaining([
        { field: 'intervalMs', message: 'is required for type interval' },
        { field: 'cron', message: 'applies to type cron only' },
      ]),
    );
    expect(response.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['cron', 'deadlineMs', 'domain', 'intervalMs', 'name', 'priority', 'whenBusy']);
  });

  it('stores catchUp with the schedule and refuses an unknown policy with 400', async () => {
    const bad = await server
      .http()
      .post('/schedules')
      .send(interval({ catchUp: 'sometimes' }))
      .expect(400);
    const created = await server
      .http()
      .post('/schedules')
      .send(interval({ name: 'catching-up', catchUp: 'all' }))
      .expect(201);

    const one = await server.http().get(`/schedules/${created.body.jobId}`).expect(200);
    await server.http().delete(`/schedules/${created.body.jobId}`).expect(204);

    expect(bad.body.fields).toEqual([{ field: 'catchUp', message: 'must be one of none, one, all' }]);
    expect(one.body).toMatchObject({ jobId: 'catching-up', catchUp: 'all' });
  });

  it('answers 400 for a cron expression the scheduler cannot parse', async () => {
    const response = await server.http().post('/schedules').send({ type: 'cron', priority: 'low', domain: 'nightly', cron: 'every tuesday', deadlineMs: 1000 }).expect(400);

    expect(response.body.fields).toEqual([{ field: 'cron', message: expect.stringContaining('not a valid cron expression') }]);
  });

  it('publishes a canary with 201 and shows it pending in the coordinator health', async () => {
    const canary = await server
      .http()
      .post('/schedules/canary')
      .send({ domain: 'canaries', payload: { ping: 1 } })
      .expect(201);

    const health = await server.http().get('/coordinator/health').expect(200);

    expect(canary.body).toMatchObject({ jobId: expect.any(String), itemId: expect.any(String), domain: 'canaries', status: 'pending' });
    expect(health.body.canaries).toEqual([expect.objectContaining({ jobId: canary.body.jobId, status: 'pending' })]);
  });
});
