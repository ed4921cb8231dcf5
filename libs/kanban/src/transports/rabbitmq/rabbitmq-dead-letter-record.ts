import type { Message } from 'amqplib';
import { decodeItem, newItemId } from '../../codec';
import { DEAD_LETTER_REASONS, type DeadLetter, type DeadLetterReason, type Priority } from '../../interfaces';
import { PRIORITIES } from '../../kanban.constants';
import { numberHeader, stringHeader } from './rabbitmq-message';
import type { RabbitMqNames } from './rabbitmq-names';
import { RABBITMQ_DEAD_LETTER_ERROR_MAX_CHARS, RABBITMQ_HEADERS } from './rabbitmq.constants';

/** What is dead-lettered: the message bytes exactly as they were queued, and where they were queued. */
export interface DeadLetterSource {
  id: string;
  priority: Priority;
  domain: string;
  body: Buffer;
  malformed: boolean;
}

/** One letter record of the dead-letter log: the original bytes as body, the facts about the death as headers. */
export interface DeadLetterRecord {
  messageId: string;
  body: Buffer;
  headers: Record<string, unknown>;
  deadLetter: DeadLetter;
}

/** x-death reasons a quorum queue writes, and what they mean for a kanban item. */
const BROKER_REASONS: Record<string, { reason: DeadLetterReason; error: string }> = {
  delivery_limit: { reason: 'stalled', error: 'its last attempt was never settled: the consumer holding it went away' },
  rejected: { reason: 'nack', error: 'a consumer outside kanban rejected it' },
  expired: { reason: 'deadline_exceeded', error: 'its message TTL expired in the queue' },
  maxlen: { reason: 'stalled', error: 'the queue dropped it for length' },
};

export function deadLetterRecord(source: DeadLetterSource, reason: DeadLetterReason, error: string | undefined, attempts: number, deadLetteredAt: number): DeadLetterRecord {
  const storedError = error === undefined ? undefined : truncate(error);
  const headers: Record<string, unknown> = {
    [RABBITMQ_HEADERS.reason]: reason,
    [RABBITMQ_HEADERS.attempts]: attempts,
    [RABBITMQ_HEADERS.deadLetteredAt]: deadLetteredAt,
    [RABBITMQ_HEADERS.priority]: source.priority,
    [RABBITMQ_HEADERS.domain]: source.domain,
    [RABBITMQ_HEADERS.malformed]: source.malformed,
    ...(storedError === undefined ? {} : { [RABBITMQ_HEADERS.error]: storedError }),
  };
  return {
    messageId: source.id,
    body: source.body,
    headers,
    deadLetter: toDeadLetter(source, reason, storedError, attempts, deadLetteredAt),
  };
}

/** Reads a letter record of the dead-letter log back; undefined for a message kanban did not write. */
export function readDeadLetterRecord(message: Message): DeadLetter | undefined {
  return copyDeadLetterRecord(message)?.deadLetter;
}

/** The record a letter message holds, rebuilt (headers in kanban's own types); undefined for a message kanban did not write. */
export function copyDeadLetterRecord(message: Message): DeadLetterRecord | undefined {
  const { headers } = message.properties;
  const reason = stringHeader(headers, RABBITMQ_HEADERS.reason) as DeadLetterReason | undefined;
  const priority = stringHeader(headers, RABBITMQ_HEADERS.priority) as Priority | undefined;
  const domain = stringHeader(headers, RABBITMQ_HEADERS.domain);
  const attempts = numberHeader(headers, RABBITMQ_HEADERS.attempts);
  const deadLetteredAt = numberHeader(headers, RABBITMQ_HEADERS.deadLetteredAt);
  const id = message.properties.messageId as unknown;
  if (!reason || !DEAD_LETTER_REASONS.includes(reason) || !priority || !PRIORITIES.includes(priority)) return undefined;
  if (!domain || attempts === undefined || deadLetteredAt === undefined || typeof id !== 'string') return undefined;
  const source = { id, priority, domain, body: message.content, malformed: headers?.[RABBITMQ_HEADERS.malformed] === true };
  return deadLetterRecord(source, reason, stringHeader(headers, RABBITMQ_HEADERS.error), attempts, deadLetteredAt);
}

/** The fields the index keeps, read from a letter record's headers without decoding its body. */
export function readLetterKey(message: Message): { id: string; domain: string; reason: DeadLetterReason } | undefined {
  const { headers } = message.properties;
  const reason = stringHeader(headers, RABBITMQ_HEADERS.reason) as DeadLetterReason | undefined;
  const domain = stringHeader(headers, RABBITMQ_HEADERS.domain);
  const id: unknown = message.properties.messageId;
  if (!reason || !DEAD_LETTER_REASONS.includes(reason) || !domain || typeof id !== 'string') return undefined;
  return { id, domain, reason };
}

/**
 * Makes a record of a message the broker dead-lettered into the intake queue (its body is the
 * original message; x-death says why and when).
 */
export function recordFromBrokerDeadLetter(message: Message, names: RabbitMqNames, maxAttempts: number): DeadLetterRecord {
  const headers = message.properties.headers;
  const death = headers?.['x-death']?.[0];
  const routingKey = death?.['routing-keys']?.[0] ?? message.fields.routingKey;
  // amqplib's XDeath type predates quorum queues' 'delivery_limit' reason.
  const deathReason: string = death?.reason ?? 'delivery_limit';
  const known = BROKER_REASONS[deathReason] ?? BROKER_REASONS.delivery_limit;
  const attemptsBefore = numberHeader(headers, RABBITMQ_HEADERS.attemptsBefore) ?? 0;
  const attempts = attemptsBefore + (deathReason === 'delivery_limit' ? maxAttempts : 1);
  const deathSeconds = death?.time?.value;
  const deadLetteredAt = typeof deathSeconds === 'number' ? deathSeconds * 1_000 : Date.now();
  let source: DeadLetterSource;
  try {
    const item = decodeItem(message.content, attempts);
    source = { id: item.id, priority: item.priority, domain: item.domain, body: message.content, malformed: false };
  } catch {
    const queue = names.parseRoutingKey(routingKey);
    const messageId = message.properties.messageId as unknown;
    source = {
      id: typeof messageId === 'string' && messageId ? messageId : newItemId(),
      priority: queue?.priority ?? 'normal',
      domain: queue?.domain ?? 'unknown',
      body: message.content,
      malformed: true,
    };
  }
  const error = `RabbitMQ dead-lettered it from ${death?.queue ?? 'its queue'}: ${known.error}`;
  return deadLetterRecord(source, known.reason, error, attempts, deadLetteredAt);
}

function toDeadLetter(source: DeadLetterSource, reason: DeadLetterReason, error: string | undefined, attempts: number, deadLetteredAt: number): DeadLetter {
  const base = { id: source.id, priority: source.priority, domain: source.domain, reason, attempts, deadLetteredAt, broker: 'rabbitmq' as const };
  const withError = error === undefined ? base : { ...base, error };
  if (!source.malformed) {
    try {
      return { ...withError, item: decodeItem(source.body, attempts) };
    } catch {
      // Bytes that no longer decode are still kept, as raw.
    }
  }
  return { ...withError, raw: source.body.toString('base64') };
}

function truncate(text: string): string {
  return text.length <= RABBITMQ_DEAD_LETTER_ERROR_MAX_CHARS ? text : `${text.slice(0, RABBITMQ_DEAD_LETTER_ERROR_MAX_CHARS)}…`;
}
