import { BrokerUnavailableError } from '@tps/kanban';
import { rabbitmqBroker, testNamespace } from '../harness';
import { startAndCloseKanbanModule } from './support/kanban-module-startup';
import { everythingShown, formsOf, recordStartup } from './support/secret-leaks';
import { startServer } from './support/server-under-test';

/** Characters a URL must encode, so both the plain and the encoded form are looked for. */
const WRONG_PASSWORD = 'R4bbit-pw:77aa/c0de@do-not-log';

/** The test broker's URL with the same user and a wrong password. */
function urlWithWrongPassword(): string {
  const url = new URL(rabbitmqBroker().url);
  url.password = encodeURIComponent(WRONG_PASSWORD);
  return url.toString();
}

/**
 * RabbitMQ with a wrong password in its URL: start-up stops with a typed error that names the
 * user, and the password appears neither in the error nor in any log line, whether the library
 * is configured directly or the server reads KANBAN_RABBITMQ_URL.
 */
describe('RabbitMQ credentials', () => {
  it('a KanbanModule with a wrong password fails start-up with BrokerUnavailableError, showing no password', async () => {
    // Arrange
    const options = { rabbitmq: { url: urlWithWrongPassword(), queuePrefix: testNamespace().queuePrefix }, embedded: { path: ':memory:' } };

    // Act
    const record = await recordStartup((logger) => startAndCloseKanbanModule(options, logger));

    // Assert
    expect(record.error).toBeInstanceOf(BrokerUnavailableError);
    expect((record.error as Error).message).toContain(`login refused for user '${new URL(rabbitmqBroker().url).username}'`);
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record);
    for (const secret of formsOf(WRONG_PASSWORD)) expect(shown).not.toContain(secret);
  });

  it('the server with a wrong password in KANBAN_RABBITMQ_URL fails start-up with BrokerUnavailableError, showing no password', async () => {
    // Act
    const record = await recordStartup(async (logger) => {
      const server = await startServer({ KANBAN_RABBITMQ_URL: urlWithWrongPassword() }, logger);
      await server.close();
    });

    // Assert
    expect(record.error).toBeInstanceOf(BrokerUnavailableError);
    // The capture saw the start-up's log lines, so their not holding the password means something.
    expect(record.logger.lines.length).toBeGreaterThan(0);
    const shown = everythingShown(record);
    for (const secret of formsOf(WRONG_PASSWORD)) expect(shown).not.toContain(secret);
  });
});
