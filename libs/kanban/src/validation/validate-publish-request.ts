import { DOMAIN_PATTERN, GROUP_PATTERN, PRIORITIES } from '../kanban.constants';
import { KanbanValidationError, type FieldError } from '../errors';
import type { PublishRequest, WorkItem } from '../interfaces/work-item.interface';
import { newItemId } from '../codec/item-id';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
export const MAX_HEADER_COUNT = 64;
export const MAX_HEADER_VALUE_LENGTH = 4096;
const HEADER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export function domainError(domain: unknown): string | undefined {
  if (typeof domain !== 'string') return 'must be a string';
  if (!DOMAIN_PATTERN.test(domain)) {
    return `must match ${DOMAIN_PATTERN.source} (lowercase letter first, then up to 62 of a-z 0-9 _ -; no '.', '*', '>' or spaces)`;
  }
  return undefined;
}

export function groupError(group: unknown): string | undefined {
  if (typeof group !== 'string') return 'must be a string';
  if (!GROUP_PATTERN.test(group)) return `must match ${GROUP_PATTERN.source} (lowercase letter first, then up to 63 of a-z 0-9 _ -; no '.', '*', '>' or spaces)`;
  return undefined;
}

export function priorityError(priority: unknown): string | undefined {
  return PRIORITIES.includes(priority as WorkItem['priority']) ? undefined : `must be one of ${PRIORITIES.join(', ')}`;
}

function payloadBytes(payload: unknown): number | string {
  if (payload === undefined) return 'is required (any JSON value, null included)';
  try {
    const text = JSON.stringify(payload);
    if (text === undefined) return 'must be a JSON value';
    return Buffer.byteLength(text, 'utf8');
  } catch (error) {
    return `is not serialisable as JSON (${(error as Error).message})`;
  }
}

function headerErrors(headers: unknown, errors: FieldError[]): void {
  if (headers === undefined) return;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    errors.push({ field: 'headers', message: 'must be an object of string values' });
    return;
  }
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADER_COUNT) errors.push({ field: 'headers', message: `must have at most ${MAX_HEADER_COUNT} entries` });
  for (const [name, value] of entries) {
    if (!HEADER_NAME_PATTERN.test(name)) errors.push({ field: `headers.${name}`, message: 'name must be 1-128 of A-Z a-z 0-9 _ . -' });
    if (typeof value !== 'string') errors.push({ field: `headers.${name}`, message: 'must be a string' });
    else if (value.length > MAX_HEADER_VALUE_LENGTH || /[\r\n\0]/.test(value)) {
      errors.push({ field: `headers.${name}`, message: `must be at most ${MAX_HEADER_VALUE_LENGTH} characters without CR, LF or NUL` });
    }
  }
}

/**
 * Checks a publish request and builds the item to store.
 * @throws KanbanValidationError listing every offending field.
 */
export function validatePublishRequest(request: PublishRequest, maxPayloadBytes: number, now = Date.now()): WorkItem {
  const errors: FieldError[] = [];
  if (typeof request !== 'object' || request === null) {
    throw new KanbanValidationError([{ field: 'request', message: 'must be an object' }]);
  }
  const priority = priorityError(request.priority);
  if (priority) errors.push({ field: 'priority', message: priority });
  const domain = domainError(request.domain);
  if (domain) errors.push({ field: 'domain', message: domain });

  const size = payloadBytes(request.payload);
  if (typeof size === 'string') errors.push({ field: 'payload', message: size });
  else if (size > maxPayloadBytes) errors.push({ field: 'payload', message: `is ${size} bytes encoded; the limit is ${maxPayloadBytes}` });

  let deadline: number | undefined;
  if (request.deadline !== undefined && request.deadlineMs !== undefined) {
    errors.push({ field: 'deadline', message: 'give deadline or deadlineMs, not both' });
  } else if (request.deadline !== undefined) {
    if (!Number.isSafeInteger(request.deadline)) errors.push({ field: 'deadline', message: 'must be an integer epoch in ms' });
    else if (request.deadline <= now) errors.push({ field: 'deadline', message: 'must be in the future' });
    else deadline = request.deadline;
  } else if (request.deadlineMs !== undefined) {
    if (!Number.isSafeInteger(request.deadlineMs) || request.deadlineMs <= 0) {
      errors.push({ field: 'deadlineMs', message: 'must be a positive integer number of ms' });
    } else deadline = now + request.deadlineMs;
  } else {
    errors.push({ field: 'deadline', message: 'is required (or deadlineMs)' });
  }

  const key = request.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE_ASCII.test(key))) {
    errors.push({ field: 'idempotencyKey', message: `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces` });
  }
  headerErrors(request.headers, errors);
  const group = request.group === undefined ? undefined : groupError(request.group);
  if (group) errors.push({ field: 'group', message: group });

  if (errors.length > 0) throw new KanbanValidationError(errors);
  return {
    id: newItemId(now),
    priority: request.priority,
    domain: request.domain,
    payload: request.payload,
    deadline: deadline as number,
    publishedAt: now,
    attempts: 0,
    ...(key !== undefined ? { idempotencyKey: key } : {}),
    headers: { ...(request.headers ?? {}) },
    ...(request.group !== undefined ? { group: request.group } : {}),
  };
}
