import { startTestServer, type TestServer } from './support/test-server';
import { publishAndPull } from './support/work-requests';

const KANBAN_METRICS = [
  'kanban_queue_depth',
  'kanban_current_workers',
  'kanban_queue_depth_avg',
  'kanban_latency_ms',
  'kanban_published_total',
  'kanban_acked_total',
  'kanban_dead_lettered_total',
  'kanban_circuit_breaker_open',
];

describe('GET /metrics', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '50' });
  });

  afterAll(async () => {
    await server.close();
  });

  it("serves kanban's eight metrics and the default process metrics in Prometheus text format", async () => {
    const acked = await publishAndPull(server, { domain: 'metered' });
    await server.http().post(`/work/${acked.id}/ack`).send({ domain: 'metered', lease: acked.lease }).expect(200);
    const nacked = await publishAndPull(server, { domain: 'metered' });
    await server.http().post(`/work/${nacked.id}/nack`).send({ domain: 'metered', lease: nacked.lease, reason: 'no' }).expect(200);

    const response = await server.http().get('/metrics').expect(200);

    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of KANBAN_METRICS) expect(response.text).toContain(`# TYPE ${name} `);
    expect(response.text).toContain('process_cpu_user_seconds_total');
    expect(response.text).toMatch(/kanban_published_total\{priority="normal",domain="metered",broker="embedded"\} 2/);
    expect(response.text).toMatch(/kanban_acked_total\{priority="normal",domain="metered",broker="embedded"\} 1/);
    expect(response.text).toMatch(/kanban_dead_lettered_total\{priority="normal",domain="metered",broker="embedded",reason="nack"\} 1/);
  });

  it('records the publish-to-ack latency of an item acked over HTTP in kanban_latency_ms', async () => {
    const pulled = await publishAndPull(server, { domain: 'timed' });
    await server.http().post(`/work/${pulled.id}/ack`).send({ domain: 'timed', lease: pulled.lease }).expect(200);

    const response = await server.http().get('/metrics').expect(200);

    expect(response.text).toMatch(/kanban_latency_ms_count\{[^}]*domain="timed"[^}]*\} 1\n/);
  });
});
