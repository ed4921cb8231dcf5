import { describeIfAvailable } from '../harness/needs-tool';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { publishAndPull } from '../../apps/kanban-server/test/support/work-requests';
import { PROMTOOL_MISSING, findPromtool, runPromtool } from './support/promtool';

const promtool = findPromtool();
const describeWithPromtool = describeIfAvailable(promtool !== undefined, PROMTOOL_MISSING);

describeWithPromtool(`GET /metrics passes promtool check metrics${promtool ? '' : ` (${PROMTOOL_MISSING})`}`, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '50' });
  });
  afterAll(() => server.close());

  it('lints clean after items were acked, retried and dead-lettered', async () => {
    // Arrange
    const domain = server.domain('linted');
    const acked = await publishAndPull(server, { domain });
    await server.http().post(`/work/${acked.id}/ack`).send({ domain, lease: acked.lease }).expect(200);
    const nacked = await publishAndPull(server, { domain });
    await server.http().post(`/work/${nacked.id}/nack`).send({ domain, lease: nacked.lease, reason: 'no' }).expect(200);
    const retried = await publishAndPull(server, { domain });
    await server.http().post(`/work/${retried.id}/retry`).send({ domain, lease: retried.lease, delayMs: 0 }).expect(200);

    // Act
    const scraped = await server.http().get('/metrics').expect(200);
    const lint = runPromtool(promtool as string, ['check', 'metrics'], { input: scraped.text });

    // Assert
    expect(scraped.text).toContain(`kanban_retries_total{priority="normal",domain="${domain}",broker="embedded"} 1\n`);
    expect(scraped.text).toContain(`kanban_latency_seconds_count{priority="normal",domain="${domain}",broker="embedded"} 1\n`);
    expect(lint).toEqual({ status: 0, output: '' });
  });
});
