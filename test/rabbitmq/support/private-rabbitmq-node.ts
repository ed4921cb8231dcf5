import { rmSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import type { RabbitMqConnectionOptions } from '../../../libs/kanban/src/interfaces';
import type { TransportSettings } from '../../../libs/kanban/src/transport';
import { RabbitMqTransport } from '../../../libs/kanban/src/transports/rabbitmq';
import type { LocalBrokerState } from '../../harness/broker-state';
import { terminate } from '../../harness/local-process';
import { startLocalRabbitMq } from '../../harness/local-rabbitmq';

/** A fresh RabbitMQ node boots in 10–60 s on a loaded machine. */
const NODE_START_TIMEOUT_MS = 120_000;

export type PrivateRabbitMqNode = LocalBrokerState & { port: number };

/**
 * A RabbitMQ node of the describe block's own, for tests that kill or freeze it, so no other test
 * file loses its broker mid-run. Started before the block's tests, stopped and removed after them;
 * Nest's warnings are muted meanwhile (a broker going away on purpose logs plenty).
 * @param extraConfig rabbitmq.conf lines for the node (a TLS listener, say), computed before it starts.
 * @returns the node, available inside the tests.
 */
export function privateRabbitMqNode(extraConfig: () => readonly string[] | Promise<readonly string[]> = () => []): () => PrivateRabbitMqNode {
  let node: PrivateRabbitMqNode | undefined;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    node = await startLocalRabbitMq(await extraConfig());
  }, NODE_START_TIMEOUT_MS);

  afterAll(async () => {
    Logger.overrideLogger(['warn', 'error']);
    if (!node) return;
    await terminate(node.pid);
    if (node.epmd) await terminate(node.epmd.pid);
    rmSync(node.baseDir, { recursive: true, force: true });
  });

  return () => {
    if (!node) throw new Error('the private RabbitMQ node did not start (see beforeAll)');
    return node;
  };
}

/** Transports on a private node, each closed after the test that built it. */
export interface PrivateNodeTransports {
  /** A transport on the node (guest user) under `queuePrefix`, not connected yet. */
  build(queuePrefix: string, settings: TransportSettings, options?: Partial<RabbitMqConnectionOptions>): RabbitMqTransport;
  /** `build`, connected. */
  open(queuePrefix: string, settings: TransportSettings, options?: Partial<RabbitMqConnectionOptions>): Promise<RabbitMqTransport>;
}

/** Transports on the node `privateRabbitMqNode` returned, for the same describe block. */
export function privateNodeTransports(node: () => PrivateRabbitMqNode): PrivateNodeTransports {
  const built: RabbitMqTransport[] = [];
  afterEach(() => Promise.all(built.splice(0).map((transport) => transport.close())));

  const build = (queuePrefix: string, settings: TransportSettings, options: Partial<RabbitMqConnectionOptions> = {}): RabbitMqTransport => {
    const transport = new RabbitMqTransport({ url: `amqp://guest:guest@127.0.0.1:${node().port}`, queuePrefix, ...options }, settings);
    built.push(transport);
    return transport;
  };
  return {
    build,
    async open(queuePrefix, settings, options) {
      const transport = build(queuePrefix, settings, options);
      await transport.connect();
      return transport;
    },
  };
}
