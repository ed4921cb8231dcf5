import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../test/harness/wait-for';
import { buildServer, runServer as runCompiledServer, type ServerProcess } from './support/compiled-server';

const LISTENING = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;

describe('KANBAN_LOG_FORMAT', () => {
  let build: ReturnType<typeof buildServer>;
  let dir: string;
  const servers: ServerProcess[] = [];
  const runServer = (main: string, env: Record<string, string>): ServerProcess => {
    const server = runCompiledServer(main, env);
    servers.push(server);
    return server;
  };

  beforeAll(() => {
    build = buildServer();
    dir = mkdtempSync(join(tmpdir(), 'kanban-log-format-'));
  }, 120_000);

  afterEach(() => {
    for (const server of servers.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  });

  afterAll(() => {
    build?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('json: the server writes one JSON object per line, from start-up to shutdown', async () => {
    // Arrange
    const server = runServer(build.main, { KANBAN_EMBEDDED_PATH: join(dir, 'json.db'), PORT: '0', KANBAN_LOG_FORMAT: 'json' });
    const port = await waitFor(() => LISTENING.exec(server.output())?.[1], { timeoutMs: 30_000, description: `the server to listen:\n${server.output()}` });
    const posted = await fetch(`http://127.0.0.1:${port}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ priority: 'low', domain: 'logs', payload: 1, deadlineMs: 60_000 }),
    });

    // Act
    server.child.kill('SIGTERM');
    await server.exited;

    // Assert
    expect(posted.status).toBe(201);
    const lines = server.output().trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.length).toBeGreaterThan(3);
    for (const entry of parsed) expect(entry).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.anything() }));
    expect(parsed).toEqual(expect.arrayContaining([expect.objectContaining({ context: 'KanbanServer', message: expect.stringMatching(LISTENING) })]));
  });

  it('an unknown format stops start-up with one line naming the variable', async () => {
    // Arrange
    const server = runServer(build.main, { KANBAN_EMBEDDED_PATH: join(dir, 'bad.db'), PORT: '0', KANBAN_LOG_FORMAT: 'xml' });

    // Act
    let exit: { code: number | null } | undefined;
    void server.exited.then((result) => (exit = result));
    const { code } = await waitFor(() => exit, { timeoutMs: 30_000, description: `the server to stop:\n${server.output()}` });

    // Assert
    const lines = server.output().trim().split('\n');
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/KANBAN_LOG_FORMAT/);
  });
});
