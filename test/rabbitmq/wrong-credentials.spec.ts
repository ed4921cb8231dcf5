import { inspect } from 'node:util';
import { Logger, type LoggerService } from '@nestjs/common';
import { BrokerUnavailableError, KanbanConfigError } from '../../libs/kanban/src/errors';
import { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { contractSettings } from '../contract/contract-helpers';
import { rabbitmqBroker, testNamespace } from '../harness';

/** Keeps every line the transport logs, to check none of them holds the password. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  debug(message: unknown): void {
    this.lines.push(String(message));
  }
  verbose(message: unknown): void {
    this.lines.push(String(message));
  }
}

describe('RabbitMQ credentials', () => {
  const logger = new RecordingLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(['warn', 'error']));

  it('rejects a wrong password with a typed error, and the password appears in no error, status or log line', async () => {
    // Arrange
    const password = 'Wr0ng-p@ss:w0rd/secret';
    const url = new URL(rabbitmqBroker().url);
    url.username = 'guest';
    url.password = encodeURIComponent(password);
    const transport = new RabbitMqTransport({ url: url.toString(), queuePrefix: testNamespace().queuePrefix }, contractSettings());

    // Act
    const error = await transport.connect().catch((failure: unknown) => failure);
    const status = transport.currentStatus;
    await transport.close();

    // Assert
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).message).toContain("login refused for user 'guest'");
    expect(status.state).toBe('down');
    const everything = [inspect(error, { depth: 10 }), JSON.stringify(status), ...logger.lines].join('\n');
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(encodeURIComponent(password));
    expect(everything).toContain('guest:***@');
  });

  it('refuses a URL that is not amqp:// or amqps:// before connecting', () => {
    // Arrange
    const options = { url: 'http://guest:guest@127.0.0.1:5672' };

    // Act
    const build = (): RabbitMqTransport => new RabbitMqTransport(options, contractSettings());

    // Assert
    expect(build).toThrow(KanbanConfigError);
    expect(build).toThrow(/rabbitmq\.url/);
  });
});
