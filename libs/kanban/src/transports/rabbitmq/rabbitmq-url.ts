import type { SocketOptions } from 'amqplib';
import { KanbanConfigError } from '../../errors';
import type { RabbitMqConnectionOptions } from '../../interfaces';
import { RABBITMQ_CONNECT_TIMEOUT_MS, RABBITMQ_CONNECTION_NAME, RABBITMQ_DEFAULT_HEARTBEAT_S } from './rabbitmq.constants';

const REDACTED = '***';

/** What amqplib needs to open a connection, and the only forms of the URL that may appear in logs and errors. */
export interface RabbitMqEndpoint {
  /** Passed to amqplib only; holds the password. */
  url: string;
  socketOptions: SocketOptions;
  /** The URL with its password replaced, for logs and error messages. */
  redacted: string;
  username: string;
  /** Hides the password (plain or URL-encoded) wherever it shows up in `text`. */
  scrub(text: string): string;
}

/** @throws KanbanConfigError when the URL is not an amqp:// or amqps:// URL. */
export function rabbitMqEndpoint(options: RabbitMqConnectionOptions): RabbitMqEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new KanbanConfigError('rabbitmq.url', 'is not a URL (expected amqp://user:pass@host:5672/vhost)');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new KanbanConfigError('rabbitmq.url', `must start with amqp:// or amqps://, got ${parsed.protocol}//`);
  }
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(RABBITMQ_DEFAULT_HEARTBEAT_S));
  const secrets = parsed.password ? [parsed.password, decodeURIComponent(parsed.password)] : [];
  const redactedUrl = new URL(parsed.toString());
  if (redactedUrl.password) redactedUrl.password = REDACTED;
  redactedUrl.searchParams.delete('heartbeat');
  const scrub = (text: string): string => secrets.reduce((out, secret) => (secret ? out.split(secret).join(REDACTED) : out), text);
  return {
    url: parsed.toString(),
    socketOptions: {
      ...(options.tls ?? {}),
      noDelay: true,
      timeout: RABBITMQ_CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: RABBITMQ_CONNECTION_NAME },
    },
    redacted: redactedUrl.toString(),
    username: decodeURIComponent(parsed.username) || 'guest',
    scrub,
  };
}
