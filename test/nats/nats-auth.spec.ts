import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings } from '../contract/contract-helpers';
import { startPrivateNatsServer, testNamespace, type PrivateNatsServer } from '../harness';

const USER = 'kanban';
const PASSWORD = 'pw-9f3b27c1-do-not-log';

describe('NATS: authentication', () => {
  let server: PrivateNatsServer;
  const transports: NatsTransport[] = [];
  const transportFor = (user: string, pass: string): NatsTransport => {
    const transport = new NatsTransport({ servers: [server.url], user, pass, streamPrefix: testNamespace().streamPrefix }, contractSettings());
    transports.push(transport);
    return transport;
  };

  beforeAll(async () => {
    server = await startPrivateNatsServer({ configLines: [`authorization { user: ${USER}, password: "${PASSWORD}" }`] });
  });

  afterAll(async () => {
    await Promise.all(transports.map((transport) => transport.close()));
    await server.stop();
  });

  it('connects with the right user and password', async () => {
    // Arrange
    const transport = transportFor(USER, PASSWORD);

    // Act
    await transport.connect();

    // Assert
    expect(transport.currentStatus).toMatchObject({ state: 'up', active: 'nats' });
  });

  it('refuses a wrong password with a typed error that names the user and never the password', async () => {
    // Arrange
    const wrongPassword = `${PASSWORD}-wrong`;
    const transport = transportFor(USER, wrongPassword);

    // Act
    const error = await transport.connect().then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assert
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    const text = `${(error as Error).message} ${JSON.stringify((error as BrokerUnavailableError).context)} ${String((error as Error).cause)}`;
    expect((error as Error).message).toMatch(/authorization failed .* user 'kanban'/);
    expect(text).not.toContain(PASSWORD);
    expect(transport.currentStatus.state).toBe('down');
    expect(transport.currentStatus.detail).not.toContain(PASSWORD);
  });
});
