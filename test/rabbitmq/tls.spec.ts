import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { RabbitMqConnectionOptions } from '../../libs/kanban/src/interfaces';
import { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { LONG_LEASE_MS, contractSettings, depthOf, makeItem, pullExactly } from '../contract/contract-helpers';
import { freePort, testNamespace } from '../harness';
import { rabbitmqctl } from '../harness/local-rabbitmq';
import { privateRabbitMqNode } from './support/private-rabbitmq-node';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
const USER = 'kanban-tls';
const PASSWORD = 'Tls-S3cret-pw';
const RABBITMQCTL_TIMEOUT_MS = 30_000;

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it, plus a second CA that signed nothing. */
function makeCertificates(dir: string): { ca: string; otherCa: string; cert: string; key: string } {
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  for (const ca of ['ca', 'other-ca']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=kanban test ${ca}`, '-keyout', path(`${ca}.key`), '-out', path(`${ca}.pem`));
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', path('server.key'), '-out', path('server.csr'));
  writeFileSync(path('server.ext'), 'subjectAltName = DNS:localhost, IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path('server.ext'), '-out', path('server.pem'));
  return { ca: path('ca.pem'), otherCa: path('other-ca.pem'), cert: path('server.pem'), key: path('server.key') };
}

/**
 * RabbitMQ over TLS (amqps://): with the broker's CA in `tls`, the transport verifies the server and
 * works as over plain AMQP; a server it cannot verify is refused with a typed error that never
 * shows the password.
 */
describe('RabbitMQ over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-tls-'));
  const certificates = makeCertificates(dir);
  let tlsPort = 0;
  const node = privateRabbitMqNode(async () => {
    tlsPort = await freePort();
    return [
      `listeners.ssl.default = ${tlsPort}`,
      `ssl_options.cacertfile = ${certificates.ca}`,
      `ssl_options.certfile = ${certificates.cert}`,
      `ssl_options.keyfile = ${certificates.key}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
    ];
  });
  const opened: RabbitMqTransport[] = [];

  const transportWith = (tls: RabbitMqConnectionOptions['tls']): RabbitMqTransport => {
    const transport = new RabbitMqTransport({ url: `amqps://${USER}:${PASSWORD}@localhost:${tlsPort}`, queuePrefix: testNamespace().queuePrefix, tls }, contractSettings());
    opened.push(transport);
    return transport;
  };

  beforeAll(async () => {
    for (const args of [
      ['add_user', USER, PASSWORD],
      ['set_permissions', '-p', '/', USER, '.*', '.*', '.*'],
    ]) {
      const code = await rabbitmqctl(node(), args, RABBITMQCTL_TIMEOUT_MS);
      if (code !== 0) throw new Error(`rabbitmqctl ${args[0]} exited with ${code}`);
    }
  }, 60_000);
  afterEach(async () => {
    for (const transport of opened.splice(0)) await transport.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes, pulls and acks over amqps:// when given the broker CA', async () => {
    // Arrange
    const transport = transportWith({ ca: readFileSync(certificates.ca) });
    await transport.connect();
    const item = makeItem();

    // Act
    const receipt = await transport.publish(item);
    const [delivery] = await pullExactly(transport, QUEUE, 1, { leaseMs: LONG_LEASE_MS });
    await transport.ack(delivery);

    // Assert
    expect(receipt).toEqual({ id: item.id, broker: 'rabbitmq', duplicate: false });
    expect(delivery.id).toBe(item.id);
    expect(transport.currentStatus).toEqual({ state: 'up', active: 'rabbitmq' });
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 0, inFlight: 0 });
  }, 60_000);

  it('refuses a broker whose certificate another CA signed, with BrokerUnavailableError that hides the password', async () => {
    // Arrange
    const transport = transportWith({ ca: readFileSync(certificates.otherCa) });

    // Act
    const refusal = await transport.connect().then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assert
    expect(refusal).toBeInstanceOf(BrokerUnavailableError);
    expect((refusal as Error).message).not.toContain(PASSWORD);
    expect((refusal as Error).message).toContain(`amqps://${USER}:***@localhost:${tlsPort}`);
    expect(transport.currentStatus.state).toBe('down');
    expect(transport.currentStatus.detail).not.toContain(PASSWORD);
  }, 60_000);
});
