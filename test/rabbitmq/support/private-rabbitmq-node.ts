import { rmSync } from 'node:fs';
import { Logger } from '@nestjs/common';
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
