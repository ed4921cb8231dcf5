import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { NatsConnectionOptions } from '../../libs/kanban/src/interfaces/kanban-options.interface';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings } from '../contract/contract-helpers';
import { startPrivateNatsServer, testNamespace, type PrivateNatsServer } from '../harness';

const USER = 'kanban';
const PASSWORD = 'pw-9f3b27c1-do-not-log';
const TOKEN = 'tok-51d0e2aa-do-not-log';

/** Connects a transport with `options` to `server` and closes it; resolves to its state once connected, or the error. */
async function connectWith(server: PrivateNatsServer, options: Partial<NatsConnectionOptions>): Promise<{ state: string; error?: Error }> {
  const transport = new NatsTransport({ servers: [server.url], streamPrefix: testNamespace().streamPrefix, ...options }, contractSettings());
  try {
    await transport.connect();
    return { state: transport.currentStatus.state };
  } catch (error) {
    return { state: transport.currentStatus.state, error: error as Error };
  } finally {
    await transport.close();
  }
}

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

describe('NATS: token, nkey and TLS', () => {
  const servers: PrivateNatsServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('connects with the right token and refuses a wrong one without showing it', async () => {
    // Arrange
    const server = await startPrivateNatsServer({ configLines: [`authorization { token: "${TOKEN}" }`] });
    servers.push(server);

    // Act
    const right = await connectWith(server, { token: TOKEN });
    const wrong = await connectWith(server, { token: `${TOKEN}-wrong` });

    // Assert
    expect(right).toEqual({ state: 'up' });
    expect(wrong.error).toBeInstanceOf(BrokerUnavailableError);
    expect(wrong.error?.message).toMatch(/authorization failed .* token/);
    expect(`${wrong.error?.message} ${String(wrong.error?.cause)}`).not.toContain(TOKEN);
  });

  it('connects with the nkey seed the server knows and refuses another', async () => {
    // Arrange
    const user = nkeys.createUser();
    const stranger = nkeys.createUser();
    const server = await startPrivateNatsServer({ configLines: [`authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`] });
    servers.push(server);
    const strangerSeed = new TextDecoder().decode(stranger.getSeed());

    // Act
    const right = await connectWith(server, { nkeySeed: new TextDecoder().decode(user.getSeed()) });
    const wrong = await connectWith(server, { nkeySeed: strangerSeed });

    // Assert
    expect(right).toEqual({ state: 'up' });
    expect(wrong.error).toBeInstanceOf(BrokerUnavailableError);
    expect(wrong.error?.message).toMatch(/authorization failed .* nkey/);
    expect(`${wrong.error?.message} ${String(wrong.error?.cause)}`).not.toContain(strangerSeed);
  });

  it('connects over TLS with the configured CA and refuses a server it cannot verify', async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'tps-kanban-tls-'));
    const pki = makeTestPki(dir);
    const server = await startPrivateNatsServer({ configLines: [`tls { cert_file: "${pki.certFile}", key_file: "${pki.keyFile}" }`] });
    servers.push(server);

    // Act
    const trusted = await connectWith(server, { tls: { ca: readFileSync(pki.caFile) } });
    const untrusted = await connectWith(server, { tls: {} });

    // Assert
    expect(trusted).toEqual({ state: 'up' });
    expect(untrusted.error).toBeInstanceOf(BrokerUnavailableError);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** A CA and a server certificate for 127.0.0.1, made with the openssl CLI. */
function makeTestPki(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const file = (name: string): string => join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kanban-test-ca', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr')]);
  // nats.js presents 127.0.0.1 to TLS as "localhost".
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('san.ext'), '-out', file('server.pem')]);
  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}
