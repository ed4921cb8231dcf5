import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { freePort, natsBroker, startPrivateNatsServer, testNamespace, waitFor } from '../harness';

/** A close with the server gone must not wait for it (a drain would). */
const CLOSE_BOUND_MS = 3_000;

describe('NATS: connection', () => {
  const transports: NatsTransport[] = [];
  const transportOn = (servers: string[]): NatsTransport => {
    const transport = new NatsTransport({ servers, streamPrefix: testNamespace().streamPrefix }, contractSettings());
    transports.push(transport);
    return transport;
  };

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
  });

  it('connects through the next server of the list when the first does not answer', async () => {
    // Arrange
    const transport = transportOn([`nats://127.0.0.1:${await freePort()}`, natsBroker().url]);

    // Act
    await transport.connect();

    // Assert
    expect(transport.currentStatus).toMatchObject({ state: 'up', active: 'nats' });
  });

  it('refuses to start when no server answers, naming the servers without their credentials', async () => {
    // Arrange
    const port = await freePort();
    const transport = transportOn([`nats://someone:hunter2-secret@127.0.0.1:${port}`]);

    // Act
    const error = await transport.connect().then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );

    // Assert
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error?.message).toContain(`nats://127.0.0.1:${port}`);
    expect(`${error?.message} ${String(error?.cause)} ${transport.currentStatus.detail}`).not.toContain('hunter2-secret');
    expect(transport.currentStatus.state).toBe('down');
  });

  it('refuses to start on a server without JetStream, saying how to enable it', async () => {
    // Arrange
    const server = await startPrivateNatsServer({ jetStream: false });
    const transport = transportOn([server.url]);

    // Act
    const connected = transport.connect();

    // Assert
    try {
      await expect(connected).rejects.toBeInstanceOf(BrokerUnavailableError);
      await expect(connected).rejects.toThrow(/JetStream is not available .* -js/);
    } finally {
      await server.stop();
    }
  });
});

describe('NATS: close while the server is gone', () => {
  it('resolves promptly and reports closed', async () => {
    // Arrange
    const server = await startPrivateNatsServer();
    const transport = new NatsTransport({ servers: [server.url], streamPrefix: testNamespace().streamPrefix }, contractSettings());
    await transport.connect();
    await transport.publish(makeItem());
    await transport.pull({ domain: 'orders', priority: 'normal' }, 1, { leaseMs: 5_000, waitMs: 1_000 });
    await server.stop();
    await waitFor(() => transport.currentStatus.state === 'down', { timeoutMs: 10_000, description: 'the transport to see the server gone' });
    const started = performance.now();

    // Act
    await transport.close();

    // Assert
    expect(transport.currentStatus.state).toBe('closed');
    expect(performance.now() - started).toBeLessThan(CLOSE_BOUND_MS);
  });
});
