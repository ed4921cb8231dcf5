import { Logger } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from './jetstream-client';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { connect, errors as natsErrors, nkeyAuthenticator } from './nats-client';
import { BrokerUnavailableError, KanbanConfigError, MissingDependencyError } from '../../errors';
import type { NatsConnectionOptions } from '../../interfaces/kanban-options.interface';
import {
  NATS_API_TIMEOUT_MS,
  NATS_CLUSTER_MAX_PINGS_OUT,
  NATS_CLUSTER_PING_INTERVAL_MS,
  NATS_CONNECT_TIMEOUT_MS,
  NATS_DEFAULT_CONNECTION_NAME,
  NATS_RECONNECT_JITTER_MS,
  NATS_RECONNECT_TIME_WAIT_MS,
} from './nats.constants';
import { findCause } from './nats-errors';
import { NatsStaleConnection } from './nats-stale-connection';

/** Server URLs as they may be logged: user info stripped. */
export function redactServers(servers: string[]): string {
  return servers.map((server) => server.replace(/\/\/[^@/]*@/, '//')).join(', ');
}

function pem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const parts = Array.isArray(value) ? value : [value];
  return parts.map((part) => (Buffer.isBuffer(part) ? part.toString('utf8') : String(part))).join('\n');
}

/** nats.js options from kanban's: several servers (a dead one found within seconds), reconnect forever with jittered backoff, credentials, TLS. */
export function natsClientOptions(options: NatsConnectionOptions, stale: NatsStaleConnection): NodeConnectionOptions {
  const client: NodeConnectionOptions = {
    servers: options.servers,
    name: options.name ?? NATS_DEFAULT_CONNECTION_NAME,
    timeout: NATS_CONNECT_TIMEOUT_MS,
    reconnect: true,
    // nats.js otherwise builds an Error (with its stack) per request for async stack traces: measurable CPU per settle.
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: NATS_RECONNECT_TIME_WAIT_MS,
    reconnectJitter: NATS_RECONNECT_JITTER_MS,
    reconnectJitterTLS: NATS_RECONNECT_JITTER_MS,
  };
  if (options.servers.length > 1) {
    client.pingInterval = NATS_CLUSTER_PING_INTERVAL_MS;
    client.maxPingOut = NATS_CLUSTER_MAX_PINGS_OUT;
    client.reconnectToServer = stale.pickServer;
  }
  if (options.user !== undefined) client.user = options.user;
  if (options.pass !== undefined) client.pass = options.pass;
  if (options.token !== undefined) client.token = options.token;
  if (options.nkeySeed !== undefined) client.authenticator = nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed));
  if (options.tls) {
    client.tls = {
      ca: pem(options.tls.ca),
      cert: pem(options.tls.cert),
      key: pem(options.tls.key),
      ...(options.tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
      ...(options.tls.servername !== undefined ? ({ servername: options.tls.servername } as object) : {}),
    };
  }
  return client;
}

export interface NatsClients {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stale: NatsStaleConnection;
}

/**
 * Opens the connection and checks that JetStream answers.
 * @throws BrokerUnavailableError naming the servers (never the credentials) and what failed.
 * @throws KanbanConfigError when the server's max_payload cannot carry maxPayloadBytes.
 */
export async function openNatsConnection(options: NatsConnectionOptions, maxMessageBytes: number, logger: Logger): Promise<NatsClients> {
  const servers = redactServers(options.servers);
  const stale = new NatsStaleConnection();
  let nc: NatsConnection;
  try {
    nc = await connect(natsClientOptions(options, stale));
  } catch (error) {
    if (error instanceof MissingDependencyError) throw error;
    throw connectError(error, servers, options);
  }
  try {
    const serverMax = nc.info?.max_payload ?? Number.MAX_SAFE_INTEGER;
    if (maxMessageBytes > serverMax) {
      throw new KanbanConfigError(
        'maxPayloadBytes',
        `items of up to ${maxMessageBytes} bytes with their envelope exceed the NATS server's max_payload of ${serverMax}; raise max_payload on the server or lower maxPayloadBytes`,
      );
    }
    const jsm = await jetstreamManager(nc, { timeout: NATS_API_TIMEOUT_MS });
    await jsm.getAccountInfo();
    logger.log(`connected to NATS ${servers} (server ${nc.info?.server_name ?? 'unknown'} ${nc.info?.version ?? ''}), JetStream available`);
    return { nc, jsm, js: jetstream(nc, { timeout: NATS_API_TIMEOUT_MS }), stale };
  } catch (error) {
    await nc.close().catch(() => undefined);
    if (error instanceof KanbanConfigError) throw error;
    throw new BrokerUnavailableError('nats', `JetStream is not available on ${servers}: ${(error as Error).message}. Start nats-server with -js (or jetstream {} in its config)`, { cause: error });
  }
}

/** Whether the server the connection is on answers a ping within `timeoutMs` (a frozen or dead one does not). */
export async function serverAnswers(nc: NatsConnection, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      nc.rtt().then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function connectError(error: unknown, servers: string, options: NatsConnectionOptions): BrokerUnavailableError {
  if (findCause(error, natsErrors.AuthorizationError) || /authoriz|authenticat/i.test((error as Error)?.message ?? '')) {
    const credential = options.nkeySeed ? 'nkey' : options.token !== undefined ? 'token' : options.user !== undefined ? `user '${options.user}' and password` : 'no credentials';
    return new BrokerUnavailableError('nats', `authorization failed on ${servers} with ${credential}; check the configured NATS credentials`, { cause: scrub(error, options) });
  }
  return new BrokerUnavailableError('nats', `cannot connect to ${servers}: ${scrub(error, options).message}`, { cause: scrub(error, options) });
}

/** A copy of the error whose message cannot carry a configured secret, nor one written into a server URL. */
function scrub(error: unknown, options: NatsConnectionOptions): Error {
  let message = (error instanceof Error ? error.message : String(error)).replace(/\/\/[^@/\s]*@/g, '//');
  for (const secret of [options.pass, options.token, options.nkeySeed]) {
    if (secret) message = message.split(secret).join('***');
  }
  const copy = new Error(message);
  copy.name = error instanceof Error ? error.name : 'Error';
  return copy;
}
