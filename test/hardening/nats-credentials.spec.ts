import { BrokerUnavailableError, type NatsConnectionOptions } from '@tps/kanban';
import { startPrivateNatsServer, testNamespace, type PrivateNatsServer } from '../harness';
import { startAndCloseKanbanModule } from './support/kanban-module-startup';
import { everythingShown, formsOf, recordStartup } from './support/secret-leaks';
import { startServer, type ServerUnderTest } from './support/server-under-test';

const USER = 'kanban';
const PASSWORD = 'N4ts-pw:9f3b/27c1@do-not-log';
const WRONG_PASSWORD = 'Wr0ng-pw:51d0/e2aa@do-not-log';
const READ_ROUTES = ['/health', '/metrics', '/queues', '/coordinator/health', '/schedules'];

function withUserInfo(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * nats-server with a user and password: wrong credentials stop start-up with a typed error that
 * names the user, and neither password appears in the error, in any log line or in what the
 * server started with the right ones shows over HTTP.
 */
describe('NATS credentials', () => {
  let nats: PrivateNatsServer;
  const servers: ServerUnderTest[] = [];

  beforeAll(async () => {
    nats = await startPrivateNatsServer({ configLines: [`authorization { user: ${USER}, password: "${PASSWORD}" }`] });
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await nats?.stop();
  });

  it.each<[string, () => Partial<NatsConnectionOptions>]>([
    ['user and password options', () => ({ servers: [nats.url], user: USER, pass: WRONG_PASSWORD })],
    ['credentials in the server URL', () => ({ servers: [withUserInfo(nats.url, USER, WRONG_PASSWORD)] })],
  ])('a KanbanModule with a wrong password given as %s fails start-up with BrokerUnavailableError, showing no password', async (_label, connection) => {
    // Arrange
    const options = { nats: { streamPrefix: testNamespace().streamPrefix, ...connection() } as NatsConnectionOptions, embedded: { path: ':memory:' } };

    // Act
    const record = await recordStartup((logger) => startAndCloseKanbanModule(options, logger));

    // Assert
    expect(record.error).toBeInstanceOf(BrokerUnavailableError);
    expect((record.error as Error).message).toMatch(/authoriz/i);
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record);
    for (const secret of [...formsOf(WRONG_PASSWORD), ...formsOf(PASSWORD)]) expect(shown).not.toContain(secret);
  });

  it.each<[string, () => Record<string, string>]>([
    ['KANBAN_NATS_USER/KANBAN_NATS_PASS', () => ({ KANBAN_NATS_SERVERS: nats.url, KANBAN_NATS_USER: USER, KANBAN_NATS_PASS: WRONG_PASSWORD })],
    ['credentials in KANBAN_NATS_SERVERS', () => ({ KANBAN_NATS_SERVERS: withUserInfo(nats.url, USER, WRONG_PASSWORD) })],
  ])('the server with a wrong password in %s fails start-up with BrokerUnavailableError, showing no password', async (_label, env) => {
    // Act
    const record = await recordStartup(async (logger) => servers.push(await startServer(env(), logger)));

    // Assert
    expect(record.error).toBeInstanceOf(BrokerUnavailableError);
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record);
    for (const secret of formsOf(WRONG_PASSWORD)) expect(shown).not.toContain(secret);
  });

  it('the server started with the right password in KANBAN_NATS_USER/KANBAN_NATS_PASS works and shows it nowhere', async () => {
    // Arrange
    const env = { KANBAN_NATS_SERVERS: nats.url, KANBAN_NATS_USER: USER, KANBAN_NATS_PASS: PASSWORD };
    const record = await recordStartup(async (logger) => servers.push(await startServer(env, logger)));
    expect(record.error).toBeUndefined();
    const server = servers[servers.length - 1];

    // Act
    await server.http().post('/work').send({ priority: 'high', domain: 'secrets', payload: 1, deadlineMs: 60_000 }).expect(201);
    const pages = [];
    for (const route of READ_ROUTES) pages.push((await server.http().get(route)).text);
    const health = await server.http().get('/health').expect(200);

    // Assert
    expect(health.body.info.broker).toMatchObject({ broker: 'nats', state: 'up' });
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record, ...pages, server.logger.text());
    for (const secret of formsOf(PASSWORD)) expect(shown).not.toContain(secret);
  });

  it('the right password written into KANBAN_NATS_SERVERS is not used (nats.js ignores URL user info): start-up fails saying so, showing it nowhere', async () => {
    // Arrange
    const env = { KANBAN_NATS_SERVERS: withUserInfo(nats.url, USER, PASSWORD) };

    // Act
    const record = await recordStartup(async (logger) => servers.push(await startServer(env, logger)));

    // Assert
    expect(record.error).toBeInstanceOf(BrokerUnavailableError);
    expect((record.error as Error).message).toContain('with no credentials');
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record);
    for (const secret of formsOf(PASSWORD)) expect(shown).not.toContain(secret);
  });
});
