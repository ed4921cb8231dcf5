import type { Message, MessagePropertyHeaders } from 'amqplib';
import { decodeItem, MalformedItemError, newItemId } from '../../codec';
import type { LeaseRef, TransportDelivery } from '../../interfaces';
import { RABBITMQ_BROKER_HEADERS, RABBITMQ_HEADERS } from './rabbitmq.constants';

/** A header as a number: amqplib hands typed integers over as numbers or as `{ value }`. */
export function numberHeader(headers: MessagePropertyHeaders | undefined, name: string): number | undefined {
  const raw: unknown = headers?.[name];
  const value = typeof raw === 'object' && raw !== null && 'value' in raw ? raw.value : raw;
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

export function stringHeader(headers: MessagePropertyHeaders | undefined, name: string): string | undefined {
  const value: unknown = headers?.[name];
  if (typeof value === 'string') return value;
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

/**
 * Earlier returns of this message the broker counted: `x-delivery-count` (every return on 3.x, failed
 * ones on 4.3+) or `x-acquired-count` (every acquisition, 4.3+), whichever is larger.
 */
export function returnsOf(message: Message): number {
  const { headers } = message.properties;
  return Math.max(numberHeader(headers, 'x-delivery-count') ?? 0, numberHeader(headers, 'x-acquired-count') ?? 0);
}

/** Delivery number of this message: deliveries before it was (re)published, plus the broker's count, plus this one. */
export function attemptsOf(message: Message): number {
  return (numberHeader(message.properties.headers, RABBITMQ_HEADERS.attemptsBefore) ?? 0) + returnsOf(message) + 1;
}

/** Headers for a republished copy: the sender's own headers, without the broker's bookkeeping. */
export function copyHeaders(message: Message, attemptsBefore: number): Record<string, unknown> {
  const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) };
  for (const name of RABBITMQ_BROKER_HEADERS) delete headers[name];
  headers[RABBITMQ_HEADERS.attemptsBefore] = attemptsBefore;
  return headers;
}

/**
 * Turns a message from the (priority, domain) queue into what `pull` hands out. Bytes that are
 * not a kanban item, or an item for another queue, become a MalformedDelivery: pull never throws.
 */
export function toTransportDelivery(message: Message, ref: Omit<LeaseRef, 'id'>, attempts: number, leaseExpiresAt: number): TransportDelivery {
  try {
    const item = decodeItem(message.content, attempts);
    if (item.priority !== ref.priority || item.domain !== ref.domain) {
      throw new MalformedItemError(`item is for ${item.priority}/${item.domain} but arrived on ${ref.priority}/${ref.domain}`);
    }
    return { ...ref, id: item.id, item, leaseExpiresAt };
  } catch (error) {
    return {
      ...ref,
      id: newItemId(),
      malformed: true,
      raw: message.content.toString('base64'),
      error: error instanceof Error ? error.message : String(error),
      attempts,
    };
  }
}
