import { isIP } from 'node:net';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { KanbanConfigError, resolveKanbanOptions, type KanbanGroupOptions, type KanbanModuleOptions } from '@tps/kanban';
import { natsOptionsFrom, rabbitMqOptionsFrom } from './broker-options';
import { EnvironmentError, type EnvironmentProblem } from './environment.error';
import { ServerEnvironment, VARIABLE_OF_OPTION } from './server-environment';
import type { ServerConfig } from './server-config.interface';
import { ALL_INTERFACES_HOST, BODY_ENVELOPE_BYTES, DEFAULT_PORT, DEFAULT_RATE_LIMIT_PER_SECOND, LOOPBACK_HOST } from './server-config.constants';

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** One problem per variable: the first rule it breaks is enough to fix it. */
function variableProblems(env: ServerEnvironment): EnvironmentProblem[] {
  return validateSync(env).map((error) => ({
    variable: error.property,
    message: Object.values(error.constraints ?? {})[0]?.replace(`${error.property} `, '') ?? 'is invalid',
  }));
}

/**
 * Without a token every Host is checked (the DNS rebinding guard of a loopback server); with one,
 * only when names are listed: behind a load balancer the token guards the API.
 */
function allowedHostsFrom(env: ServerEnvironment): string[] | undefined {
  const listed = env.KANBAN_ALLOWED_HOSTS?.split(',').map((name) => name.trim().toLowerCase());
  return listed ?? (env.KANBAN_API_TOKEN ? undefined : []);
}

/**
 * Express `trust proxy` from KANBAN_TRUST_PROXY; an address that is not one is reported here rather
 * than thrown by Express at the first request. `true` (every hop) is not offered: any client could
 * then name its own address and escape the rate limit.
 */
function trustProxyFrom(env: ServerEnvironment, problems: EnvironmentProblem[]): number | string[] | undefined {
  const value = env.KANBAN_TRUST_PROXY?.trim();
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  const invalid = entries.filter((entry) => !PROXY_KEYWORDS.has(entry) && isIP(entry.replace(/\/\d+$/, '')) === 0);
  if (invalid.length > 0) problems.push({ variable: 'KANBAN_TRUST_PROXY', message: `holds entries that are not addresses or subnets: ${invalid.join(', ')}` });
  return entries;
}

/** The `groups` options the KANBAN_GROUP_* variables set; undefined when none is set. */
function groupOptionsFrom(env: ServerEnvironment): KanbanGroupOptions | undefined {
  const groups: KanbanGroupOptions = {
    ...(env.KANBAN_GROUP_MAX_IN_FLIGHT !== undefined ? { maxInFlightPerGroup: env.KANBAN_GROUP_MAX_IN_FLIGHT } : {}),
    ...(env.KANBAN_GROUP_RATE_PER_SECOND !== undefined ? { groupRatePerSecond: env.KANBAN_GROUP_RATE_PER_SECOND } : {}),
    ...(env.KANBAN_GROUP_WINDOW !== undefined ? { window: env.KANBAN_GROUP_WINDOW } : {}),
    ...(env.KANBAN_GROUP_METRICS !== undefined ? { metrics: env.KANBAN_GROUP_METRICS } : {}),
  };
  return Object.keys(groups).length > 0 ? groups : undefined;
}

function kanbanOptionsFrom(env: ServerEnvironment, problems: EnvironmentProblem[]): KanbanModuleOptions {
  const nats = natsOptionsFrom(env, problems);
  const rabbitmq = rabbitMqOptionsFrom(env, problems);
  const groups = groupOptionsFrom(env);
  return {
    ...(nats ? { nats } : {}),
    ...(rabbitmq ? { rabbitmq } : {}),
    ...(groups ? { groups } : {}),
    embedded: { path: env.KANBAN_EMBEDDED_PATH },
    workerPullSize: env.KANBAN_WORKER_PULL_SIZE,
    workerProcessTimeoutMs: env.KANBAN_WORKER_PROCESS_TIMEOUT_MS,
    deadLetterTimeoutMs: env.KANBAN_DEAD_LETTER_TIMEOUT_MS,
    coordinatorCheckIntervalMs: env.KANBAN_COORDINATOR_CHECK_INTERVAL_MS,
    maxQueueDepth: env.KANBAN_MAX_QUEUE_DEPTH,
    maxDomains: env.KANBAN_MAX_DOMAINS,
    maxAttempts: env.KANBAN_MAX_ATTEMPTS,
    maxPayloadBytes: env.KANBAN_MAX_PAYLOAD_BYTES,
    failover: { publishTimeoutMs: env.KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS, outboxMaxItems: env.KANBAN_OUTBOX_MAX_ITEMS },
    ...(env.KANBAN_METRICS_LATENCY_MS !== undefined ? { latencyMsMetric: env.KANBAN_METRICS_LATENCY_MS } : {}),
  };
}

/**
 * Reads and checks the whole environment before anything connects, so a bad value stops start-up
 * with a message naming the variable rather than failing later inside a broker client.
 * @throws EnvironmentError listing every variable at fault.
 */
export function loadServerConfig(variables: NodeJS.ProcessEnv): ServerConfig {
  const env = plainToInstance(ServerEnvironment, { ...variables }, { excludeExtraneousValues: true });
  const problems = variableProblems(env);
  if (problems.length > 0) throw new EnvironmentError(problems);

  const host = env.KANBAN_HOST ?? (env.KANBAN_API_TOKEN ? ALL_INTERFACES_HOST : LOOPBACK_HOST);
  if (!env.KANBAN_API_TOKEN && !isLoopback(host)) {
    problems.push({ variable: 'KANBAN_HOST', message: 'must be a loopback address while KANBAN_API_TOKEN is unset: set a token to listen beyond this machine' });
  }
  if (env.KANBAN_READONLY_TOKEN && (!env.KANBAN_API_TOKEN || env.KANBAN_READONLY_TOKEN === env.KANBAN_API_TOKEN)) {
    problems.push({ variable: 'KANBAN_READONLY_TOKEN', message: 'needs KANBAN_API_TOKEN set to a different value: the read-only role exists only beside the operator token' });
  }
  const kanban = kanbanOptionsFrom(env, problems);
  const trustProxy = trustProxyFrom(env, problems);
  if (problems.length > 0) throw new EnvironmentError(problems);

  let maxPayloadBytes: number;
  try {
    maxPayloadBytes = resolveKanbanOptions(kanban).maxPayloadBytes;
  } catch (error) {
    if (!(error instanceof KanbanConfigError)) throw error;
    throw new EnvironmentError([{ variable: VARIABLE_OF_OPTION[error.setting] ?? error.setting, message: error.message }]);
  }
  const allowedHosts = allowedHostsFrom(env);
  return {
    port: env.PORT ?? DEFAULT_PORT,
    host,
    ...(env.KANBAN_API_TOKEN ? { apiToken: env.KANBAN_API_TOKEN } : {}),
    ...(env.KANBAN_READONLY_TOKEN ? { readOnlyToken: env.KANBAN_READONLY_TOKEN } : {}),
    ...(allowedHosts ? { allowedHosts } : {}),
    rateLimitPerSecond: env.KANBAN_RATE_LIMIT_PER_SECOND ?? DEFAULT_RATE_LIMIT_PER_SECOND,
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    bodyLimitBytes: maxPayloadBytes + BODY_ENVELOPE_BYTES,
    kanban,
  };
}
