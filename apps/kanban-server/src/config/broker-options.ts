import { readFileSync } from 'node:fs';
import type { NatsConnectionOptions, RabbitMqConnectionOptions } from '@tps/kanban';
import type { EnvironmentProblem } from './environment.error';
import type { ServerEnvironment } from './server-environment';

type TlsFiles = NonNullable<NatsConnectionOptions['tls']>;

/** Reads a PEM file named by a variable; a missing or unreadable file is reported against the variable. */
function readPem(env: ServerEnvironment, variable: keyof ServerEnvironment, problems: EnvironmentProblem[]): Buffer | undefined {
  const path = env[variable];
  if (typeof path !== 'string') return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    problems.push({ variable, message: `names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${path})` });
    return undefined;
  }
}

function tlsOptions(ca: Buffer | undefined, cert?: Buffer, key?: Buffer): TlsFiles | undefined {
  if (!ca && !cert && !key) return undefined;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** NATS connection options from the KANBAN_NATS_* variables, or undefined when no servers are set. */
export function natsOptionsFrom(env: ServerEnvironment, problems: EnvironmentProblem[]): NatsConnectionOptions | undefined {
  const credentials = ['KANBAN_NATS_USER', 'KANBAN_NATS_PASS', 'KANBAN_NATS_TOKEN', 'KANBAN_NATS_NKEY_SEED', 'KANBAN_NATS_TLS_CA', 'KANBAN_NATS_TLS_CERT', 'KANBAN_NATS_TLS_KEY'] as const;
  if (!env.KANBAN_NATS_SERVERS) {
    for (const variable of credentials.filter((name) => env[name] !== undefined)) {
      problems.push({ variable, message: 'is set but KANBAN_NATS_SERVERS is not: set the servers too, or unset it' });
    }
    return undefined;
  }
  if ((env.KANBAN_NATS_USER === undefined) !== (env.KANBAN_NATS_PASS === undefined)) {
    problems.push({ variable: env.KANBAN_NATS_USER === undefined ? 'KANBAN_NATS_USER' : 'KANBAN_NATS_PASS', message: 'must be set together with its pair (KANBAN_NATS_USER and KANBAN_NATS_PASS)' });
  }
  const methods = [env.KANBAN_NATS_USER !== undefined, env.KANBAN_NATS_TOKEN !== undefined, env.KANBAN_NATS_NKEY_SEED !== undefined].filter(Boolean).length;
  if (methods > 1) problems.push({ variable: 'KANBAN_NATS_TOKEN', message: 'conflicts with another NATS credential: use one of user/pass, token or NKey seed' });
  if ((env.KANBAN_NATS_TLS_CERT === undefined) !== (env.KANBAN_NATS_TLS_KEY === undefined)) {
    problems.push({ variable: env.KANBAN_NATS_TLS_CERT === undefined ? 'KANBAN_NATS_TLS_CERT' : 'KANBAN_NATS_TLS_KEY', message: 'must be set together with its pair (client certificate and key)' });
  }
  const tls = tlsOptions(readPem(env, 'KANBAN_NATS_TLS_CA', problems), readPem(env, 'KANBAN_NATS_TLS_CERT', problems), readPem(env, 'KANBAN_NATS_TLS_KEY', problems));
  return {
    servers: env.KANBAN_NATS_SERVERS.split(',').map((url) => url.trim()),
    ...(env.KANBAN_NATS_REPLICAS !== undefined ? { replicas: env.KANBAN_NATS_REPLICAS } : {}),
    ...(env.KANBAN_NATS_PUBLISH_TIMEOUT_MS !== undefined ? { publishTimeoutMs: env.KANBAN_NATS_PUBLISH_TIMEOUT_MS } : {}),
    ...(env.KANBAN_NATS_USER !== undefined ? { user: env.KANBAN_NATS_USER, pass: env.KANBAN_NATS_PASS } : {}),
    ...(env.KANBAN_NATS_TOKEN !== undefined ? { token: env.KANBAN_NATS_TOKEN } : {}),
    ...(env.KANBAN_NATS_NKEY_SEED !== undefined ? { nkeySeed: env.KANBAN_NATS_NKEY_SEED } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** RabbitMQ connection options from KANBAN_RABBITMQ_URL (credentials and vhost inside the URL; a comma list for a cluster's nodes). */
export function rabbitMqOptionsFrom(env: ServerEnvironment, problems: EnvironmentProblem[]): RabbitMqConnectionOptions | undefined {
  if (!env.KANBAN_RABBITMQ_URL) {
    if (env.KANBAN_RABBITMQ_TLS_CA !== undefined) problems.push({ variable: 'KANBAN_RABBITMQ_TLS_CA', message: 'is set but KANBAN_RABBITMQ_URL is not' });
    return undefined;
  }
  const urls = env.KANBAN_RABBITMQ_URL.split(',').map((url) => url.trim());
  for (const url of urls) {
    try {
      new URL(url);
    } catch {
      problems.push({ variable: 'KANBAN_RABBITMQ_URL', message: `is not a valid URL (or comma list of URLs): ${redactUrl(url)}` });
    }
  }
  const tls = tlsOptions(readPem(env, 'KANBAN_RABBITMQ_TLS_CA', problems));
  return { url: urls.join(','), ...(tls ? { tls } : {}) };
}

/** A broker URL fit for a log line: user info replaced, so passwords never reach the logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
