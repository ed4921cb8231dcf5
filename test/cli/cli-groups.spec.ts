import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { EXIT, buildCli, runCli } from './support/kanban-cli';

const TOKEN = 'cli-groups-token-0123456789abcdef';
const READ_ONLY_TOKEN = 'cli-groups-read-only-0123456789ab';

describe('kanban publish --group, kanban groups and kanban groups limits', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildCli();
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN }, 'embedded', false);
    env = { KANBAN_URL: server.url, KANBAN_API_TOKEN: TOKEN };
  });

  afterAll(async () => {
    await server?.close();
  });

  it('publishes an item into a group, which the pulled item carries', async () => {
    // Arrange
    const domain = server.domain('cli-grouped');

    // Act
    const publish = await runCli(['publish', '--domain', domain, '--group', 'merchant-7', '--payload', '{"n":1}', '--json'], env);
    const pulled = await server.http().post('/work/pull').set('Authorization', `Bearer ${TOKEN}`).send({ domain, waitMs: 5_000 }).expect(200);

    // Assert
    expect(publish.code).toBe(EXIT.ok);
    expect(pulled.body).toEqual([expect.objectContaining({ id: JSON.parse(publish.stdout).id, group: 'merchant-7' })]);
  });

  it("sets a group's limits, lists the domain's groups as a table and as JSON, and clears the limits", async () => {
    // Arrange
    const domain = server.domain('cli-groups');
    for (const group of ['merchant-a', 'merchant-a', 'merchant-b']) {
      expect((await runCli(['publish', '--domain', domain, '--group', group], env)).code).toBe(EXIT.ok);
    }
    expect((await runCli(['publish', '--domain', domain], env)).code).toBe(EXIT.ok);

    // Act
    const set = await runCli(['groups', 'limits', domain, 'merchant-a', '--max-in-flight', '2', '--rate', '0.5'], env);
    const table = await runCli(['groups', domain], env);
    const json = await runCli(['groups', domain, '--json'], env);
    const cleared = await runCli(['groups', 'limits', domain, 'merchant-a', '--clear', '--json'], env);

    // Assert
    expect(set.code).toBe(EXIT.ok);
    expect(set.stdout).toMatch(/^max in flight\s+2$/m);
    expect(set.stdout).toMatch(/^rate\s+0\.5\/s$/m);
    expect(table.code).toBe(EXIT.ok);
    expect(table.stdout.split('\n')[0]).toMatch(/^GROUP\s+READY\s+IN-FLIGHT\s+MAX-IN-FLIGHT\s+RATE$/);
    expect(table.stdout).toMatch(/^merchant-a\s+2\s+0\s+2\s+0\.5\/s$/m);
    expect(table.stdout).toMatch(/^merchant-b\s+1\s+0\s+-\s+-$/m);
    expect(table.stdout).toMatch(/^\(default\)\s+1\s+0\s+-\s+-$/m);
    expect(JSON.parse(json.stdout).items.map((state: { group: string }) => state.group)).toEqual(['', 'merchant-a', 'merchant-b']);
    expect(cleared.code).toBe(EXIT.ok);
    expect(JSON.parse(cleared.stdout)).toEqual({ group: 'merchant-a', ready: 2, inFlight: 0, limits: {} });
  });

  it.each([
    ['no limit and no --clear', ['billing', 'merchant-a']],
    ['--clear with a limit', ['billing', 'merchant-a', '--clear', '--rate', '1']],
    ['a zero rate', ['billing', 'merchant-a', '--rate', '0']],
    ['a fractional --max-in-flight', ['billing', 'merchant-a', '--max-in-flight', '1.5']],
    ['a missing group', ['billing']],
  ])('exits 1 (usage) for `groups limits` with %s, sending nothing', async (_label, args) => {
    // Act
    const run = await runCli(['groups', 'limits', ...args], env);

    // Assert
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('(see `kanban groups limits --help`)');
  });

  it('exits 5 (rejected) naming the field for a domain the server refuses, and 3 (auth) for the read-only token', async () => {
    // Act
    const badDomain = await runCli(['groups', 'limits', 'Billing', 'merchant-a', '--max-in-flight', '1'], env);
    const readOnly = await runCli(['groups', 'limits', 'billing', 'merchant-a', '--max-in-flight', '1'], { ...env, KANBAN_API_TOKEN: READ_ONLY_TOKEN });

    // Assert
    expect(badDomain.code).toBe(EXIT.rejected);
    expect(badDomain.stderr).toContain('domain');
    expect(readOnly.code).toBe(EXIT.auth);
    expect(readOnly.stderr).toContain('read_only');
  });
});
