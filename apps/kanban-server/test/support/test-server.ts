import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestApplicationOptions, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { natsBroker, rabbitmqBroker, testNamespace } from '../../../../test/harness';
import { loadServerConfig } from '../../src/config';
import { createServerApp } from '../../src/create-server-app';

/** The brokers the server runs on; behaviour that does not depend on the broker is tested on each. */
export const SERVER_TRANSPORTS = ['embedded', 'nats', 'rabbitmq'] as const;
export type ServerTransport = (typeof SERVER_TRANSPORTS)[number];

export interface TestServer {
  app: NestExpressApplication;
  /** supertest against the server on its loopback port. */
  http: () => ReturnType<typeof request>;
  url: string;
  /** The embedded store's file (also the failover outbox). */
  dbPath: string;
  /** The broker behind the server, as receipts and `/queues` name it. */
  broker: ServerTransport;
  /** A domain of this server's own: brokers are shared by every test file of a run. */
  domain: (base: string) => string;
  close: () => Promise<void>;
}

/** The variables that point the server at the harness's broker. */
function brokerEnvironment(transport: ServerTransport): Record<string, string> {
  if (transport === 'nats') return { KANBAN_NATS_SERVERS: natsBroker().url };
  if (transport === 'rabbitmq') return { KANBAN_RABBITMQ_URL: rabbitmqBroker().url };
  return {};
}

/**
 * The server as `main.ts` builds it, from environment variables, on `transport` (a fresh embedded
 * store in a temp dir by default, or the harness's NATS or RabbitMQ under names of its own),
 * listening on a free loopback port. `logger` takes the server's log (errors and warnings to the console by default);
 * `handlers` run in-process beside the API, as in an app that embeds the server.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  transport: ServerTransport = 'embedded',
  logger: NestApplicationOptions['logger'] = ['error', 'warn'],
  handlers: Type[] = [],
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-server-e2e-'));
  const namespace = testNamespace();
  const dbPath = join(dir, 'kanban.db');
  const config = loadServerConfig({ KANBAN_EMBEDDED_PATH: dbPath, PORT: '0', KANBAN_HOST: '127.0.0.1', ...brokerEnvironment(transport), ...env });
  // Prefixes are not server variables. A server started on a harness broker gets names of its own; one pointed at a broker by `env` keeps the defaults, so two instances can share it.
  if (transport === 'nats' && config.kanban.nats) config.kanban.nats = { ...config.kanban.nats, streamPrefix: namespace.streamPrefix };
  if (transport === 'rabbitmq' && config.kanban.rabbitmq) config.kanban.rabbitmq = { ...config.kanban.rabbitmq, queuePrefix: namespace.queuePrefix };
  const app = await createServerApp(config, logger, handlers);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    url,
    dbPath,
    broker: transport,
    domain: (base) => namespace.domain(base),
    http: () => request(url),
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
