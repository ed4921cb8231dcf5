import { BooleanVariable, IntegerVariable, PositiveNumberVariable, StringVariable } from './environment.decorators';
import { MAX_NATS_REPLICAS, MIN_API_TOKEN_LENGTH } from './server-config.constants';

const NATS_URL = String.raw`(?:nats|tls)://[^\s,]+`;
const NATS_URL_LIST = new RegExp(`^\\s*${NATS_URL}(?:\\s*,\\s*${NATS_URL})*\\s*$`);
const AMQP_URL = String.raw`amqps?://[^\s,]+`;
const AMQP_URL_LIST = new RegExp(`^\\s*${AMQP_URL}(?:\\s*,\\s*${AMQP_URL})*\\s*$`);
const PRINTABLE = /^[\x21-\x7e]+$/;
const ANY_TEXT = /^[^\0]+$/;
const HOST = /^[A-Za-z0-9.:-]+$/;
const HOST_NAME = String.raw`[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?`;
const HOST_NAME_LIST = new RegExp(`^\\s*${HOST_NAME}(?:\\s*,\\s*${HOST_NAME})*\\s*$`);
const NKEY_SEED = /^SU[A-Z2-7]+$/;
const PROXY_ADDRESS = String.raw`(?:loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(?:/\d{1,3})?)`;
const TRUST_PROXY = new RegExp(`^\\s*(?:\\d+|${PROXY_ADDRESS}(?:\\s*,\\s*${PROXY_ADDRESS})*)\\s*$`);

/**
 * The server's environment. Each property is named after its variable, so a validation message
 * names the variable to fix. Unset and empty variables are `undefined`; defaults are applied later.
 */
export class ServerEnvironment {
  @IntegerVariable(0, 65_535)
  PORT?: number;

  @StringVariable(HOST, 'must be an IP address or host name')
  KANBAN_HOST?: string;

  @StringVariable(PRINTABLE, `must be at least ${MIN_API_TOKEN_LENGTH} printable ASCII characters without spaces`, MIN_API_TOKEN_LENGTH)
  KANBAN_API_TOKEN?: string;

  /** Sees everything the API token sees and changes nothing (the dashboard's read-only role). */
  @StringVariable(PRINTABLE, `must be at least ${MIN_API_TOKEN_LENGTH} printable ASCII characters without spaces`, MIN_API_TOKEN_LENGTH)
  KANBAN_READONLY_TOKEN?: string;

  /** Host names the server answers to besides loopback names and IP addresses (DNS rebinding guard). */
  @StringVariable(HOST_NAME_LIST, 'must be a comma-separated list of host names, without ports')
  KANBAN_ALLOWED_HOSTS?: string;

  @IntegerVariable(1)
  KANBAN_RATE_LIMIT_PER_SECOND?: number;

  /** The proxies in front of the server (hop count, or addresses, subnets and loopback/linklocal/uniquelocal), so clients are told apart. */
  @StringVariable(TRUST_PROXY, 'must be a number of proxy hops, or a comma-separated list of proxy addresses, subnets or loopback, linklocal, uniquelocal')
  KANBAN_TRUST_PROXY?: string;

  @StringVariable(NATS_URL_LIST, 'must be a comma-separated list of nats:// or tls:// URLs')
  KANBAN_NATS_SERVERS?: string;

  /** JetStream stream replicas: 3 on a three-node cluster keeps every item through the loss of one node. */
  @IntegerVariable(1, MAX_NATS_REPLICAS)
  KANBAN_NATS_REPLICAS?: number;

  /** A publish JetStream has not acknowledged within this time fails; on a cluster it is retried meanwhile, so set it above a leader election. */
  @IntegerVariable(1)
  KANBAN_NATS_PUBLISH_TIMEOUT_MS?: number;

  @StringVariable(ANY_TEXT, 'must not be empty')
  KANBAN_NATS_USER?: string;

  @StringVariable(ANY_TEXT, 'must not be empty')
  KANBAN_NATS_PASS?: string;

  @StringVariable(ANY_TEXT, 'must not be empty')
  KANBAN_NATS_TOKEN?: string;

  @StringVariable(NKEY_SEED, "must be an NKey user seed (starts with 'SU')")
  KANBAN_NATS_NKEY_SEED?: string;

  @StringVariable(ANY_TEXT, 'must be the path of a PEM file')
  KANBAN_NATS_TLS_CA?: string;

  @StringVariable(ANY_TEXT, 'must be the path of a PEM file')
  KANBAN_NATS_TLS_CERT?: string;

  @StringVariable(ANY_TEXT, 'must be the path of a PEM file')
  KANBAN_NATS_TLS_KEY?: string;

  /** One node's URL, or a comma list of a cluster's nodes: the client connects to the first that answers. */
  @StringVariable(AMQP_URL_LIST, 'must be an amqp:// or amqps:// URL, or a comma-separated list of them')
  KANBAN_RABBITMQ_URL?: string;

  @StringVariable(ANY_TEXT, 'must be the path of a PEM file')
  KANBAN_RABBITMQ_TLS_CA?: string;

  @StringVariable(ANY_TEXT, 'must be a file path')
  KANBAN_EMBEDDED_PATH?: string;

  @IntegerVariable(1)
  KANBAN_WORKER_PULL_SIZE?: number;

  @IntegerVariable(1)
  KANBAN_WORKER_PROCESS_TIMEOUT_MS?: number;

  @IntegerVariable(1)
  KANBAN_DEAD_LETTER_TIMEOUT_MS?: number;

  @IntegerVariable(1)
  KANBAN_COORDINATOR_CHECK_INTERVAL_MS?: number;

  @IntegerVariable(1)
  KANBAN_MAX_QUEUE_DEPTH?: number;

  /** Domains the server opens queues for before a publish or pull of a new one gets 400. */
  @IntegerVariable(1)
  KANBAN_MAX_DOMAINS?: number;

  @IntegerVariable(1)
  KANBAN_MAX_ATTEMPTS?: number;

  @IntegerVariable(1)
  KANBAN_MAX_PAYLOAD_BYTES?: number;

  /** With both brokers set: a NATS publish not acknowledged within this time goes to RabbitMQ. */
  @IntegerVariable(1)
  KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS?: number;

  /** With both brokers set: items the outbox keeps while both are down before publishes get 503. */
  @IntegerVariable(1)
  KANBAN_OUTBOX_MAX_ITEMS?: number;

  /** Items of one group leased at once, for every group without limits of its own (`PUT /groups/...`). */
  @IntegerVariable(1)
  KANBAN_GROUP_MAX_IN_FLIGHT?: number;

  /** Items of one group handed out per second, for every group without limits of its own. */
  @PositiveNumberVariable()
  KANBAN_GROUP_RATE_PER_SECOND?: number;

  /** On NATS: items of one group in its queue at once when it has no maxInFlight. */
  @IntegerVariable(1)
  KANBAN_GROUP_WINDOW?: number;

  /** Per-group counters on /metrics (one series per group). */
  @BooleanVariable()
  KANBAN_GROUP_METRICS?: boolean;

  /** `true`: /metrics also serves the seed's kanban_latency_ms beside kanban_latency_seconds. */
  @BooleanVariable()
  KANBAN_METRICS_LATENCY_MS?: boolean;
}

/** Library option each variable sets, to name the variable when the library rejects the value. */
export const VARIABLE_OF_OPTION: Readonly<Record<string, keyof ServerEnvironment>> = {
  workerPullSize: 'KANBAN_WORKER_PULL_SIZE',
  workerProcessTimeoutMs: 'KANBAN_WORKER_PROCESS_TIMEOUT_MS',
  deadLetterTimeoutMs: 'KANBAN_DEAD_LETTER_TIMEOUT_MS',
  coordinatorCheckIntervalMs: 'KANBAN_COORDINATOR_CHECK_INTERVAL_MS',
  maxQueueDepth: 'KANBAN_MAX_QUEUE_DEPTH',
  maxDomains: 'KANBAN_MAX_DOMAINS',
  maxAttempts: 'KANBAN_MAX_ATTEMPTS',
  maxPayloadBytes: 'KANBAN_MAX_PAYLOAD_BYTES',
  'embedded.path': 'KANBAN_EMBEDDED_PATH',
  'failover.publishTimeoutMs': 'KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS',
  'failover.outboxMaxItems': 'KANBAN_OUTBOX_MAX_ITEMS',
  'groups.maxInFlightPerGroup': 'KANBAN_GROUP_MAX_IN_FLIGHT',
  'groups.groupRatePerSecond': 'KANBAN_GROUP_RATE_PER_SECOND',
  'groups.window': 'KANBAN_GROUP_WINDOW',
  'groups.metrics': 'KANBAN_GROUP_METRICS',
  'nats.servers': 'KANBAN_NATS_SERVERS',
  'nats.replicas': 'KANBAN_NATS_REPLICAS',
  'nats.publishTimeoutMs': 'KANBAN_NATS_PUBLISH_TIMEOUT_MS',
  'rabbitmq.url': 'KANBAN_RABBITMQ_URL',
};
