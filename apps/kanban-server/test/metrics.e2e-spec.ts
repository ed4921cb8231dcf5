import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { publishAndPull } from './support/work-requests';

const KANBAN_METRICS = [
  'kanban_queue_depth',
  'kanban_current_workers',
  'kanban_queue_depth_avg',
  'kanban_latency_seconds',
  'kanban_published_total',
  'kanban_acked_total',
  'kanban_dead_lettered_total',
  'kanban_circuit_breaker_open',
];

describe.each(SERVER_TRANSPORTS)('GET /metrics (%s)', (transport) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '50' }, transport);
  });

  afterAll(async () => {
    await server.close();
  });

  it("serves kanban's eight metrics and the default process metrics in Prometheus text format", async () => {
    const domain = server.domain('metered');
    const acked = await publishAndPull(server, { domain });
    await server.http().post(`/work/${acked.id}/ack`).send({ domain, lease: acked.lease }).expect(200);
    const nacked = await publishAndPull(server, { domain });
    await server.http().post(`/work/${nacked.id}/nack`).send({ domain, lease: nacked.lease, reason: 'no' }).expect(200);

    const response = await server.http().get('/metrics').expect(200);

    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of KANBAN_METRICS) expect(response.text).toContain(`# TYPE ${name} `);
    expect(response.text).toContain('process_cpu_user_seconds_total');
    const labels = `priority="normal",domain="${domain}",broker="${server.broker}"`;
    expect(response.text).toContain(`kanban_published_total{${labels}} 2\n`);
    expect(response.text).toContain(`kanban_acked_total{${labels}} 1\n`);
    expect(response.text).toContain(`kanban_dead_lettered_total{${labels},reason="nack"} 1\n`);
  });

  it('records the publish-to-ack latency of an item acked over HTTP in kanban_latency_seconds', async () => {
    const domain = server.domain('timed');
    const pulled = await publishAndPull(server, { domain });
    await server.http().post(`/work/${pulled.id}/ack`).send({ domain, lease: pulled.lease }).expect(200);

    const response = await server.http().get('/metrics').expect(200);

    expect(response.text).toMatch(new RegExp(`kanban_latency_seconds_count\\{[^}]*domain="${domain}"[^}]*\\} 1\n`));
    expect(response.text).not.toContain('kanban_latency_ms');
  });
});

describe("GET /metrics with KANBAN_METRICS_LATENCY_MS=true (the seed's contract)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_METRICS_LATENCY_MS: 'true' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves kanban_latency_ms in milliseconds beside kanban_latency_seconds, counting the same acks', async () => {
    // Arrange
    const domain = server.domain('seed-timed');
    const pulled = await publishAndPull(server, { domain });
    await server.http().post(`/work/${pulled.id}/ack`).send({ domain, lease: pulled.lease }).expect(200);

    // Act
    const response = await server.http().get('/metrics').expect(200);

    // Assert
    const sample = (name: string): number => Number(new RegExp(`${name}\\{[^}]*domain="${domain}"[^}]*\\} (\\S+)\n`).exec(response.text)?.[1]);
    expect(sample('kanban_latency_ms_count')).toBe(1);
    expect(sample('kanban_latency_seconds_count')).toBe(1);
    expect(sample('kanban_latency_ms_sum')).toBeCloseTo(sample('kanban_latency_seconds_sum') * 1000, 6);
    expect(response.text).toContain('kanban_latency_ms_bucket{le="30000",');
    expect(response.text).toContain('kanban_latency_seconds_bucket{le="30",');
  });
});
