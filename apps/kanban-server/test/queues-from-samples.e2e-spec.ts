import { waitFor } from '../../../test/harness';
import { SERVER_TRANSPORTS, startTestServer, type TestServer } from './support/test-server';
import { workBody } from './support/work-requests';

interface QueuesBody {
  ready: number;
  inFlight: number;
  queues: Array<{ broker: string; priority: string; domain: string; ready: number; inFlight: number }>;
  sampledAt: number | null;
  sampleAgeMs: number | null;
}

async function queues(server: TestServer): Promise<QueuesBody> {
  return (await server.http().get('/queues').expect(200)).body as QueuesBody;
}

/**
 * `GET /queues` answers without a token, so it must cost the brokers nothing per request: it serves
 * the coordinator's latest depth sample, with its time and age.
 */
describe('GET /queues from the coordinator samples', () => {
  describe('between two samples', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '600000' });
    });

    afterAll(async () => {
      await server.close();
    });

    it('answers every request from the same sample, taken at start-up, however many come and whatever was published since', async () => {
      const first = await waitFor(
        async () => {
          const body = await queues(server);
          return body.sampledAt !== null ? body : undefined;
        },
        { timeoutMs: 10_000, description: 'the start-up depth sample' },
      );
      await server
        .http()
        .post('/work')
        .send(workBody({ domain: 'unsampled' }))
        .expect(201);

      const later = await Promise.all(Array.from({ length: 20 }, () => queues(server)));

      expect(first.sampledAt).toBeLessThanOrEqual(Date.now());
      for (const answer of later) {
        expect(answer).toMatchObject({ sampledAt: first.sampledAt, ready: first.ready, queues: first.queues });
        expect(answer.sampleAgeMs).toBeGreaterThanOrEqual(first.sampleAgeMs ?? 0);
      }
      expect(later.flatMap((answer) => answer.queues).filter((q) => q.domain === 'unsampled')).toEqual([]);
    });
  });

  describe.each(SERVER_TRANSPORTS)('as samples are taken (%s)', (transport) => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '200' }, transport);
    });

    afterAll(async () => {
      await server.close();
    });

    it('shows what was published once the next sample is taken, with the sample age', async () => {
      const domain = server.domain('sampled');
      await server.http().post('/work').send(workBody({ domain })).expect(201);
      await server
        .http()
        .post('/work')
        .send(workBody({ domain, priority: 'high' }))
        .expect(201);
      const publishedAt = Date.now();

      const answer = await waitFor(
        async () => {
          const body = await queues(server);
          return (body.sampledAt ?? 0) >= publishedAt ? body : undefined;
        },
        { timeoutMs: 10_000, description: 'a depth sample taken after the publishes' },
      );

      expect(answer.queues.filter((q) => q.domain === domain).sort((a, b) => a.priority.localeCompare(b.priority))).toEqual([
        { broker: server.broker, priority: 'high', domain, ready: 1, inFlight: 0 },
        { broker: server.broker, priority: 'normal', domain, ready: 1, inFlight: 0 },
      ]);
      expect(answer.ready).toBe(2);
      expect(answer.sampleAgeMs).toBeGreaterThanOrEqual(0);
      expect(answer.sampleAgeMs).toBeLessThan(10_000);
    });
  });
});
