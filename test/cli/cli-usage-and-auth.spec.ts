import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../harness';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { EXIT, buildCli, runCli } from './support/kanban-cli';

const TOKEN = 'cli-test-token-0123456789abcdef';
const WRONG_TOKEN = 'cli-wrong-token-fedcba9876543210';
const UNKNOWN_ID = '01NOSUCHDEADLETTER00000000';

/** Every command the CLI has, as typed after `kanban`. */
const COMMANDS = [
  ['health'],
  ['queues'],
  ['publish'],
  ['dlq', 'list'],
  ['dlq', 'show'],
  ['dlq', 'replay'],
  ['dlq', 'purge'],
  ['workers', 'set'],
  ['breakers', 'reset'],
  ['drain'],
  ['schedules', 'list'],
  ['schedules', 'add'],
  ['schedules', 'rm'],
  ['top'],
  ['groups'],
  ['groups', 'limits'],
];

describe('kanban CLI: help, usage errors, tokens and exit codes', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildCli();
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN }, 'embedded', false);
    env = { KANBAN_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(COMMANDS.map((words) => [words.join(' '), words]))('`kanban %s --help` prints its usage and exits 0', async (_name, words) => {
    const run = await runCli([...words, '--help']);

    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toContain(`Usage: kanban ${words.join(' ')}`);
  });

  it('`kanban --help` lists every command', async () => {
    const run = await runCli(['--help']);

    expect(run.code).toBe(EXIT.ok);
    for (const words of COMMANDS) expect(run.stdout).toContain(`kanban ${words.join(' ')}`);
  });

  it('exits 1 (usage) on an unknown command, an unknown option or a missing argument, sending nothing', async () => {
    const unknownCommand = await runCli(['dlq', 'explode'], env);
    const unknownOption = await runCli(['queues', '--colour'], env);
    const missingArgument = await runCli(['workers', 'set'], env);
    const notANumber = await runCli(['workers', 'set', 'many'], env);
    const dotSegment = await runCli(['dlq', 'purge', '..'], { ...env, KANBAN_API_TOKEN: TOKEN });

    expect(unknownCommand.code).toBe(EXIT.usage);
    expect(unknownCommand.stderr).toContain('kanban dlq --help');
    expect(unknownOption.code).toBe(EXIT.usage);
    expect(unknownOption.stderr).toContain('--colour');
    expect(missingArgument.code).toBe(EXIT.usage);
    expect(notANumber.code).toBe(EXIT.usage);
    // `..` would resolve the URL to another route (DELETE /) instead of naming a dead letter.
    expect(dotSegment.code).toBe(EXIT.usage);
  });

  it('sends KANBAN_API_TOKEN as the bearer token: without it or with a wrong one exits 3 (auth), and never prints it', async () => {
    const withoutToken = await runCli(['dlq', 'list'], env);
    const wrongToken = await runCli(['dlq', 'list'], { ...env, KANBAN_API_TOKEN: WRONG_TOKEN });
    const wrongTokenJson = await runCli(['publish', '--domain', server.domain('auth'), '--json'], { ...env, KANBAN_API_TOKEN: WRONG_TOKEN });
    const rightToken = await runCli(['dlq', 'list', '--json'], { ...env, KANBAN_API_TOKEN: TOKEN });

    expect(withoutToken.code).toBe(EXIT.auth);
    expect(withoutToken.stderr).toContain('KANBAN_API_TOKEN');
    expect(wrongToken.code).toBe(EXIT.auth);
    expect(wrongTokenJson.code).toBe(EXIT.auth);
    expect(JSON.parse(wrongTokenJson.stderr)).toMatchObject({ error: { status: 401, code: 'unauthorized' } });
    for (const run of [wrongToken, wrongTokenJson]) expect(run.stdout + run.stderr).not.toContain(WRONG_TOKEN);
    expect(rightToken.code).toBe(EXIT.ok);
    expect(JSON.parse(rightToken.stdout)).toEqual({ items: [] });
  });

  it('refuses a token a header cannot carry without printing it (exit 1)', async () => {
    const run = await runCli(['dlq', 'list'], { ...env, KANBAN_API_TOKEN: `${TOKEN}\nX-Injected: 1` });

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('KANBAN_API_TOKEN');
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it("exits 2 for a dead letter that does not exist, with the server's code", async () => {
    const human = await runCli(['dlq', 'show', UNKNOWN_ID], { ...env, KANBAN_API_TOKEN: TOKEN });
    const json = await runCli(['dlq', 'show', UNKNOWN_ID, '--json'], { ...env, KANBAN_API_TOKEN: TOKEN });

    expect(human.code).toBe(EXIT.notFound);
    expect(human.stderr).toContain('dead_letter_not_found');
    expect(json.code).toBe(EXIT.notFound);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { status: 404, code: 'dead_letter_not_found' } });
  });

  it('exits 5 (rejected) when the server refuses the input, naming each invalid field', async () => {
    const run = await runCli(['publish', '--domain', 'Not A Domain', '--priority', 'urgent'], { ...env, KANBAN_API_TOKEN: TOKEN });

    expect(run.code).toBe(EXIT.rejected);
    expect(run.stderr).toContain('domain');
    expect(run.stderr).toContain('priority');
  });

  it('exits 4 (unavailable) after --timeout-ms when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
    const { port } = silent.address() as { port: number };

    try {
      const run = await runCli(['queues', '--url', `http://127.0.0.1:${port}`, '--timeout-ms', '300']);

      expect(run.code).toBe(EXIT.unavailable);
      expect(run.stderr).toContain('no answer within 300 ms');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((closed) => silent.close(closed));
    }
  });

  it('exits 4 (unavailable) when nothing listens at --url', async () => {
    const port = await freePort();

    const run = await runCli(['queues', '--url', `http://127.0.0.1:${port}`]);

    expect(run.code).toBe(EXIT.unavailable);
    expect(run.stderr).toContain(`http://127.0.0.1:${port}`);
  });
});
