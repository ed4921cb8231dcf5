import { DOMAIN_PATTERN, GROUP_PATTERN, PRIORITIES } from '../kanban.constants';
import type { WorkItem } from '../interfaces/work-item.interface';

/** Wire format of an item on every broker: UTF-8 JSON of the WorkItem without `attempts` (the broker counts those). */
export type EncodedItem = Omit<WorkItem, 'attempts'>;

export function encodeItem(item: WorkItem): Buffer {
  const { attempts: _attempts, ...wire } = item;
  return Buffer.from(JSON.stringify(wire), 'utf8');
}

/** Thrown by `decodeItem` for bytes that are not a kanban item; the caller dead-letters them as `malformed`. */
export class MalformedItemError extends Error {
  constructor(detail: string) {
    super(`Malformed work item: ${detail}`);
    this.name = 'MalformedItemError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
/** Ids end up in subjects and queue lookups, so a decoded item's id must be a plain token. */
const ITEM_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The encoded item `bytes` (one that decoded) with `headers` added to its own, every other field
 * kept as it was: a retry stored again with its failed attempt's trace.
 */
export function withHeaders(bytes: Uint8Array, headers: Record<string, string>): Buffer {
  const wire = JSON.parse(decoder.decode(bytes)) as EncodedItem;
  return Buffer.from(JSON.stringify({ ...wire, headers: { ...wire.headers, ...headers } }), 'utf8');
}

export function decodeItem(bytes: Uint8Array, attempts: number): WorkItem {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new MalformedItemError('not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedItemError(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedItemError('not a JSON object');
  }
  const wire = value as Record<string, unknown>;
  if (typeof wire.id !== 'string' || !ITEM_ID.test(wire.id)) throw new MalformedItemError('id missing or not 1-128 of A-Z a-z 0-9 _ -');
  if (!PRIORITIES.includes(wire.priority as WorkItem['priority'])) throw new MalformedItemError('priority invalid');
  if (typeof wire.domain !== 'string' || !DOMAIN_PATTERN.test(wire.domain)) throw new MalformedItemError('domain invalid');
  if (!('payload' in wire)) throw new MalformedItemError('payload missing');
  if (typeof wire.deadline !== 'number' || !Number.isFinite(wire.deadline)) throw new MalformedItemError('deadline invalid');
  if (typeof wire.publishedAt !== 'number') throw new MalformedItemError('publishedAt invalid');
  if (wire.group !== undefined && (typeof wire.group !== 'string' || !GROUP_PATTERN.test(wire.group))) throw new MalformedItemError('group invalid');
  const headers = wire.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) {
    throw new MalformedItemError('headers invalid');
  }
  return {
    id: wire.id,
    priority: wire.priority as WorkItem['priority'],
    domain: wire.domain,
    payload: wire.payload,
    deadline: wire.deadline,
    publishedAt: wire.publishedAt,
    attempts,
    ...(typeof wire.idempotencyKey === 'string' ? { idempotencyKey: wire.idempotencyKey } : {}),
    headers: headers as Record<string, string>,
    ...(typeof wire.group === 'string' ? { group: wire.group } : {}),
  };
}
