import type { SocketOptions } from 'amqplib';
import { KanbanConfigError } from '../../errors';
import type { RabbitMqConnectionOptions } from '../../interfaces';
import { RABBITMQ_CONNECT_TIMEOUT_MS, RABBITMQ_CONNECTION_NAME, RABBITMQ_DEFAULT_HEARTBEAT_S } from './rabbitmq.constants';

const REDACTED = '***';

/** One node of the broker: its URL for amqplib and the form that may appear in logs. */
export interface RabbitMqNode {
  /** Passed to amqplib only; holds the password. */
  url: string;
  /** The URL with its password replaced, for logs and error messages. */
  redacted: string;
}

/** What amqplib needs to open a connection, and the only forms of the URLs that may appear in logs and errors. */
export interface RabbitMqEndpoint {
  /** The nodes of `url`'s comma list, in order: a connection goes to the first that answers. */
  nodes: RabbitMqNode[];
  socketOptions: SocketOptions;
  /** Every node's redacted URL, for logs and error messages. */
  redacted: string;
  username: string;
  /** Hides the passwords (plain or URL-encoded) wherever they show up in `text`. */
  scrub(text: string): string;
}

/** @throws KanbanConfigError when an entry of the comma list is not an amqp:// or amqps:// URL. */
export function rabbitMqEndpoint(options: RabbitMqConnectionOptions): RabbitMqEndpoint {
  const parsed = options.url.split(',').map((url) => parseNodeUrl(url.trim()));
  const secrets = parsed.flatMap((url) => (url.password ? [url.password, decodeURIComponent(url.password)] : []));
  const nodes = parsed.map((url) => ({ url: url.toString(), redacted: redact(url) }));
  return {
    nodes,
    socketOptions: {
      ...(options.tls ?? {}),
      noDelay: true,
      timeout: RABBITMQ_CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: RABBITMQ_CONNECTION_NAME },
    },
    redacted: nodes.map((node) => node.redacted).join(', '),
    username: decodeURIComponent(parsed[0].username) || 'guest',
    scrub: (text) => secrets.reduce((out, secret) => (secret ? out.split(secret).join(REDACTED) : out), text),
  };
}

function parseNodeUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KanbanConfigError('rabbitmq.url', 'is not a URL (expected amqp://user:pass@host:5672/vhost, or a comma list of such URLs for a cluster)');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new KanbanConfigError('rabbitmq.url', `must start with amqp:// or amqps://, got ${parsed.protocol}//`);
  }
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(RABBITMQ_DEFAULT_HEARTBEAT_S));
  return parsed;
}

function redact(url: URL): string {
  const redacted = new URL(url.toString());
  if (redacted.password) redacted.password = REDACTED;
  redacted.searchParams.delete('heartbeat');
  return redacted.toString();
}
