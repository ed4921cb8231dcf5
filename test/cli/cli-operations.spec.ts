import { waitFor } from '../harness';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { EXIT, buildCli, runCli, spawnCli, type CliRun } from './support/kanban-cli';

/** Short, so `/queues` (the coordinator's latest sample) shows a publish within a poll or two. */
const SAMPLE_ENV = { KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '200' };
const QUEUES_TIMEOUT_MS = 10_000;

interface QueueRow {
  broker: string;
  priority: string;
  domain: string;
  ready: number;
}

/** Publishes with the CLI and waits until `kanban queues --json` shows the item ready. */
async function publishUntilQueued(env: Record<string, string>, domain: string): Promise<{ publish: CliRun; queues: CliRun }> {
  const publish = await runCli(['publish', '--domain', domain, '--priority', 'high', '--payload', '{"amount":100.5}', '--json'], env);
  const queues = await waitFor(
    async () => {
      const run = await runCli(['queues', '--json'], env);
      return (JSON.parse(run.stdout).queues as QueueRow[]).some((q) => q.domain === domain && q.ready === 1) ? run : undefined;
    },
    { timeoutMs: QUEUES_TIMEOUT_MS, description: `kanban queues showing ${domain}` },
  );
  return { publish, queues };
}

describe('kanban against a server on the embedded store', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildCli();
    server = await startTestServer(SAMPLE_ENV, 'embedded', false);
    env = { KANBAN_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
  });

  it('publishes an item that `kanban queues` then shows, as a table and as JSON', async () => {
    const domain = server.domain('published');

    const { publish, queues } = await publishUntilQueued(env, domain);
    const table = await runCli(['queues'], env);
    const pulled = await server.http().post('/work/pull').send({ domain, waitMs: 5_000 }).expect(200);

    expect(publish.code).toBe(EXIT.ok);
    const receipt = JSON.parse(publish.stdout);
    expect(receipt).toMatchObject({ id: expect.any(String), broker: 'embedded', duplicate: false });
    expect(queues.code).toBe(EXIT.ok);
    expect(table.stdout.split('\n')[0]).toMatch(/^BROKER\s+PRIORITY\s+DOMAIN\s+READY\s+IN-FLIGHT$/);
    expect(table.stdout).toMatch(new RegExp(`embedded\\s+high\\s+${domain}\\s+1\\s+0`));
    expect(pulled.body).toEqual([expect.objectContaining({ id: receipt.id, priority: 'high', payload: { amount: 100.5 } })]);
  });

  it('reports health with exit 0 while the server is up', async () => {
    const human = await runCli(['health'], env);
    const json = await runCli(['health', '--json'], env);

    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toMatch(/^status\s+ok$/m);
    expect(human.stdout).toMatch(/broker\s+up/);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'ok' });
  });

  it('sets the workers target and resets breakers', async () => {
    const workers = await runCli(['workers', 'set', '3'], env);
    const tooMany = await runCli(['workers', 'set', '1000'], env);
    const breakers = await runCli(['breakers', 'reset'], env);

    expect(workers.code).toBe(EXIT.ok);
    // The server has no handlers of its own (its workers pull over HTTP), so 3 per handler is 0 in all.
    expect(workers.stdout).toBe('workers set to 3 per handler: 0 running, 0 targeted in all; autoscaling paused\n');
    expect(tooMany.code).toBe(EXIT.rejected);
    expect(tooMany.stderr).toContain('count');
    expect(breakers).toMatchObject({ code: EXIT.ok, stdout: 'closed 0 open circuit breakers\n' });
  });

  it('adds, lists and removes schedules; a taken name is a conflict (exit 2)', async () => {
    const domain = server.domain('scheduled');
    const name = `cli-${domain}`;

    const added = await runCli(['schedules', 'add', '--name', name, '--domain', domain, '--every-ms', '60000', '--deadline-ms', '30000', '--payload', '{"report":true}'], env);
    const again = await runCli(['schedules', 'add', '--name', name, '--domain', domain, '--cron', '*/5 * * * *', '--deadline-ms', '30000'], env);
    const listed = await runCli(['schedules', 'list'], env);
    const listedJson = await runCli(['schedules', 'list', '--json'], env);
    const removed = await runCli(['schedules', 'rm', name], env);
    const afterRemoval = await runCli(['schedules', 'list', '--json'], env);

    expect(added).toMatchObject({ code: EXIT.ok, stdout: `${name}\n` });
    expect(again.code).toBe(EXIT.notFound);
    expect(listed.stdout).toMatch(new RegExp(`${name}\\s+interval\\s+60000ms\\s+normal\\s+${domain}`));
    expect(JSON.parse(listedJson.stdout)).toContainEqual(expect.objectContaining({ jobId: name, kind: 'interval', intervalMs: 60_000, domain }));
    expect(removed.code).toBe(EXIT.ok);
    expect(JSON.parse(afterRemoval.stdout)).not.toContainEqual(expect.objectContaining({ jobId: name }));
  });

  it('`kanban top --iterations 2` draws two frames of queues, workers and breakers and ends by itself', async () => {
    const domain = server.domain('topped');
    await server.http().post('/work').send({ priority: 'low', domain, payload: null, deadlineMs: 60_000 }).expect(201);
    await waitFor(async () => JSON.parse((await runCli(['queues', '--json'], env)).stdout).queues.some((q: QueueRow) => q.domain === domain), {
      timeoutMs: QUEUES_TIMEOUT_MS,
      description: `${domain} in the depth sample`,
    });

    const human = await runCli(['top', '--iterations', '2', '--interval', '0.2'], env);
    const json = await runCli(['top', '--iterations', '2', '--interval', '0.2', '--json'], env);

    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout.match(/^kanban top/gm)).toHaveLength(2);
    expect(human.stdout).toMatch(/workers\s+\d+ of \d+/);
    expect(human.stdout).toMatch(/open breakers\s+0/);
    expect(human.stdout).toMatch(new RegExp(`embedded\\s+low\\s+${domain}\\s+1\\s+0`));
    const frames = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatchObject({ health: { open_circuit_breakers: 0 }, queues: { queues: expect.arrayContaining([expect.objectContaining({ domain, ready: 1 })]) } });
  });

  it('`kanban top` without --iterations runs until Ctrl-C (SIGINT), then exits 0', async () => {
    const top = spawnCli(['top', '--interval', '0.2'], env);
    try {
      await waitFor(() => top.stdout().includes('kanban top'), { timeoutMs: QUEUES_TIMEOUT_MS, description: 'the first frame of kanban top' });

      top.child.kill('SIGINT');
      const exit = await top.exited;

      expect(exit).toEqual({ code: EXIT.ok, signal: null });
    } finally {
      if (top.child.exitCode === null && top.child.signalCode === null) top.child.kill('SIGKILL');
    }
  });

  // Last: a drain is irreversible until the server restarts.
  it('drains the server: publishes and replays are refused from then on (exit 4), a bulk replay stops keeping every letter, and health says so', async () => {
    const domain = server.domain('drained-letters');
    const letters: string[] = [];
    for (let n = 0; n < 3; n++) {
      const item = (await server.http().post('/work').send({ priority: 'normal', domain, payload: n, deadlineMs: 60_000 }).expect(201)).body;
      const [pulled] = (await server.http().post('/work/pull').send({ domain, waitMs: 5_000 }).expect(200)).body;
      await server.http().post(`/work/${pulled.id}/nack`).send({ domain, lease: pulled.lease, reason: 'declined' }).expect(200);
      letters.push(item.id);
    }

    const drain = await runCli(['drain'], env);
    const publish = await runCli(['publish', '--domain', server.domain('late'), '--payload', '1'], env);
    const replay = await runCli(['dlq', 'replay', '--all', '--domain', domain, '--json'], env);
    const health = await waitFor(
      async () => {
        const run = await runCli(['health'], env);
        return run.code === EXIT.unavailable ? run : undefined;
      },
      { timeoutMs: QUEUES_TIMEOUT_MS, description: 'health down while draining' },
    );
    const kept = (await server.http().get('/dead-letters').query({ domain }).expect(200)).body.items.map((letter: { id: string }) => letter.id);

    expect(drain.code).toBe(EXIT.ok);
    expect(drain.stdout).toContain('draining');
    expect(publish.code).toBe(EXIT.unavailable);
    expect(publish.stderr).toContain('draining');
    expect(replay.code).toBe(EXIT.unavailable);
    expect(JSON.parse(replay.stdout).replayed).toEqual([]);
    expect(JSON.parse(replay.stderr.trim().split('\n').at(-1) as string)).toMatchObject({ error: { status: 503, code: 'draining' } });
    expect(kept).toEqual(letters);
    expect(health.stdout).toMatch(/^status\s+error$/m);
  });
});

describe('kanban against a server on NATS', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildCli();
    server = await startTestServer(SAMPLE_ENV, 'nats', false);
    env = { KANBAN_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
  });

  it('publishes, shows the queue, and replays a dead letter the same way as on the embedded store', async () => {
    const domain = server.domain('on-nats');

    const { publish, queues } = await publishUntilQueued(env, domain);
    const [item] = (await server.http().post('/work/pull').send({ domain, waitMs: 5_000 }).expect(200)).body;
    await server.http().post(`/work/${item.id}/nack`).send({ domain, lease: item.lease, reason: 'declined' }).expect(200);
    const listed = await runCli(['dlq', 'list', '--domain', domain, '--json'], env);
    const replayed = await runCli(['dlq', 'replay', '--all', '--domain', domain, '--json'], env);
    const [again] = (await server.http().post('/work/pull').send({ domain, waitMs: 5_000 }).expect(200)).body;

    expect(JSON.parse(publish.stdout)).toMatchObject({ id: item.id, broker: 'nats' });
    expect(JSON.parse(queues.stdout).queues).toContainEqual(expect.objectContaining({ broker: 'nats', priority: 'high', domain, ready: 1 }));
    expect(JSON.parse(listed.stdout).items).toEqual([expect.objectContaining({ id: item.id, reason: 'nack', error: 'declined', broker: 'nats' })]);
    expect(replayed.code).toBe(EXIT.ok);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ replayed: [{ id: item.id, itemId: again.id, broker: 'nats' }], gone: [], remaining: 0 });
    expect(again.payload).toEqual({ amount: 100.5 });
  });
});
