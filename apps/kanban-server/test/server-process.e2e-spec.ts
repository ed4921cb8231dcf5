import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../test/harness/wait-for';
import { buildServer, runServer, type ServerProcess } from './support/compiled-server';

const LISTENING = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** The compiled server as `npm start` runs it (Node 20 loading Nest's ESM packages from CommonJS). */
describe('The server process', () => {
  let build: ReturnType<typeof buildServer>;
  let dir: string;

  beforeAll(() => {
    build = buildServer();
    dir = mkdtempSync(join(tmpdir(), 'kanban-server-process-'));
  }, 120_000);

  afterAll(() => {
    build?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  async function started(env: Record<string, string>): Promise<{ server: ServerProcess; url: string }> {
    const server = runServer(build.main, { KANBAN_EMBEDDED_PATH: join(dir, `${Date.now()}.db`), PORT: '0', ...env });
    const port = await waitFor(() => LISTENING.exec(server.output())?.[1], { timeoutMs: 30_000, description: `the server to listen:\n${server.output()}` });
    return { server, url: `http://127.0.0.1:${port}` };
  }

  it('stops start-up with exit code 1 and one line naming a bad variable', async () => {
    const server = runServer(build.main, { KANBAN_WORKER_PULL_SIZE: 'abc', KANBAN_API_TOKEN: 'short-secret' });

    const { code } = await server.exited;

    const lines = server.output().trim().split('\n');
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ERROR .*Invalid environment: .*KANBAN_WORKER_PULL_SIZE must be an integer of at least 1/);
    expect(lines[0]).toContain('KANBAN_API_TOKEN');
    expect(lines[0]).not.toContain('short-secret');
  });

  it('drains on SIGTERM, answers a waiting pull, and exits 0', async () => {
    const { server, url } = await started({});
    await fetch(`${url}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ priority: 'low', domain: 'shutdown', payload: 1, deadlineMs: 60_000 }) });
    const waitingPull = fetch(`${url}/work/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'idle', waitMs: 30_000 }) });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const sentAt = Date.now();
    server.child.kill('SIGTERM');
    const pull = await waitingPull;
    const { code, signal } = await server.exited;

    expect(pull.status).toBe(200);
    expect(await pull.json()).toEqual([]);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('Drained: in-flight work finished and workers stopped');
    expect(server.output()).toMatch(/Embedded store at .* closed/);
  });

  it('logs the broker URLs without their credentials, whether or not the broker answers', async () => {
    const brokerUrl = 'amqp://kanban:s3cret-pass@127.0.0.1:1/vhost';
    const server = runServer(build.main, { KANBAN_EMBEDDED_PATH: join(dir, 'redaction.db'), PORT: '0', KANBAN_RABBITMQ_URL: brokerUrl });
    let exited = false;
    void server.exited.then(() => (exited = true));
    await waitFor(() => exited || LISTENING.test(server.output()), { timeoutMs: 30_000, description: 'the server to listen or give up' });
    server.child.kill('SIGTERM');
    await server.exited;

    expect(server.output()).toContain('Starting on rabbitmq=amqp://***@127.0.0.1:1/vhost');
    expect(server.output()).not.toContain('s3cret-pass');
  });
});
