import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { publishAndPull } from '../../apps/kanban-server/test/support/work-requests';
import { EXIT, buildCli, runCli } from './support/kanban-cli';

const BULK_LETTERS = 25;

describe('kanban dlq: list, show, replay and purge dead letters against a real store', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildCli();
    server = await startTestServer({}, 'embedded', false);
    env = { KANBAN_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
  });

  /** Publishes, pulls and nacks `count` items of `domain`; returns their ids, oldest first. */
  async function deadLetters(domain: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const item = await publishAndPull(server, { domain, payload: { order: n } });
      await server
        .http()
        .post(`/work/${item.id}/nack`)
        .send({ domain, lease: item.lease, reason: `declined ${n}` })
        .expect(200);
      ids.push(item.id);
    }
    return ids;
  }

  async function lettersOf(domain: string): Promise<string[]> {
    const page = await server.http().get('/dead-letters').query({ domain, limit: 1000 }).expect(200);
    return page.body.items.map((letter: { id: string }) => letter.id);
  }

  it('lists dead letters as a table, as JSON, and pages with --limit and --cursor', async () => {
    const domain = server.domain('listed');
    const ids = await deadLetters(domain, 3);

    const table = await runCli(['dlq', 'list', '--domain', domain], env);
    const json = await runCli(['dlq', 'list', '--domain', domain, '--reason', 'nack', '--json'], env);
    const firstPage = await runCli(['dlq', 'list', '--domain', domain, '--limit', '2', '--json'], env);
    const cursor = JSON.parse(firstPage.stdout).nextCursor as string;
    const secondPage = await runCli(['dlq', 'list', '--domain', domain, '--limit', '2', '--cursor', cursor, '--json'], env);
    const pagedTable = await runCli(['dlq', 'list', '--domain', domain, '--limit', '2'], env);

    expect(table.code).toBe(EXIT.ok);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+DOMAIN\s+PRIORITY\s+REASON\s+ATTEMPTS\s+DEAD-LETTERED\s+ERROR$/);
    for (const [n, id] of ids.entries()) expect(table.stdout).toMatch(new RegExp(`${id}\\s+${domain}\\s+normal\\s+nack\\s+1\\s+\\S+\\s+declined ${n}`));
    expect(JSON.parse(json.stdout).items.map((letter: { id: string }) => letter.id)).toEqual(ids);
    expect(JSON.parse(firstPage.stdout).items.map((letter: { id: string }) => letter.id)).toEqual(ids.slice(0, 2));
    expect(JSON.parse(secondPage.stdout).items.map((letter: { id: string }) => letter.id)).toEqual(ids.slice(2));
    expect(pagedTable.stdout).toContain(`--cursor ${cursor}`);
  });

  it('shows one dead letter with its reason, error and payload', async () => {
    const domain = server.domain('shown');
    const [id] = await deadLetters(domain, 1);

    const human = await runCli(['dlq', 'show', id], env);
    const json = await runCli(['dlq', 'show', id, '--json'], env);

    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toMatch(/reason\s+nack/);
    expect(human.stdout).toMatch(/error\s+declined 0/);
    expect(human.stdout).toContain('"order": 0');
    expect(JSON.parse(json.stdout)).toMatchObject({ id, domain, reason: 'nack', error: 'declined 0', item: { payload: { order: 0 } } });
  });

  it('replays every dead letter of a domain with --all, showing progress, and the items are back in the queue', async () => {
    const domain = server.domain('replayed');
    const other = server.domain('replayed-other');
    const ids = await deadLetters(domain, BULK_LETTERS);
    const [untouched] = await deadLetters(other, 1);

    const run = await runCli(['dlq', 'replay', '--all', '--domain', domain, '--json'], env);
    const pulled = await server.http().post('/work/pull').send({ domain, max: BULK_LETTERS, waitMs: 5_000 }).expect(200);

    expect(run.code).toBe(EXIT.ok);
    const progress = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).progress);
    expect(progress[0]).toEqual({ action: 'replay', done: 0, total: BULK_LETTERS });
    expect(progress.at(-1)).toEqual({ action: 'replay', done: BULK_LETTERS, total: BULK_LETTERS });
    const result = JSON.parse(run.stdout);
    expect(result.replayed.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
    expect(result).toMatchObject({ gone: [], remaining: 0 });
    expect(await lettersOf(domain)).toEqual([]);
    expect(await lettersOf(other)).toEqual([untouched]);
    expect(pulled.body.map((item: { id: string }) => item.id).sort()).toEqual(result.replayed.map((r: { itemId: string }) => r.itemId).sort());
    expect(pulled.body.map((item: { payload: { order: number } }) => item.payload.order).sort((a: number, b: number) => a - b)).toEqual([...Array(BULK_LETTERS).keys()]);
  });

  it('replays the dead letters named by id and prints the new item of each', async () => {
    const domain = server.domain('replayed-by-id');
    const [first, second, kept] = await deadLetters(domain, 3);

    const run = await runCli(['dlq', 'replay', first, second], env);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(new RegExp(`${first}\\s+\\S+\\s+embedded`));
    expect(run.stdout).toMatch(new RegExp(`${second}\\s+\\S+\\s+embedded`));
    expect(await lettersOf(domain)).toEqual([kept]);
  });

  it('purges with --all only with --yes, then every matching letter, showing progress', async () => {
    const domain = server.domain('purged');
    const ids = await deadLetters(domain, BULK_LETTERS);

    const refused = await runCli(['dlq', 'purge', '--all', '--domain', domain], env);
    const lettersAfterRefusal = await lettersOf(domain);
    const purged = await runCli(['dlq', 'purge', '--all', '--domain', domain, '--yes'], env);

    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain('--yes');
    expect(lettersAfterRefusal).toEqual(ids);
    expect(purged.code).toBe(EXIT.ok);
    expect(purged.stderr.trim().split('\n').at(-1)).toBe(`purge ${BULK_LETTERS}/${BULK_LETTERS} (100%)`);
    expect(purged.stdout).toContain(`purged ${BULK_LETTERS} of ${BULK_LETTERS}`);
    expect(await lettersOf(domain)).toEqual([]);
  });

  it('exits 2 when a dead letter named by id is gone, after acting on the others', async () => {
    const domain = server.domain('purged-by-id');
    const [id] = await deadLetters(domain, 1);
    const missing = '01NOSUCHDEADLETTER00000000';

    const run = await runCli(['dlq', 'purge', missing, id], env);

    expect(run.code).toBe(EXIT.notFound);
    expect(run.stderr).toContain(missing);
    expect(await lettersOf(domain)).toEqual([]);
  });
});
