import { BrokerUnavailableError, ItemNotFoundError, KanbanError, KanbanValidationError, LeaseExpiredError, type FieldError } from '../errors';
import type { DeadLetterReason } from '../interfaces/dead-letter.interface';

interface SettleTarget {
  id: string;
  domain: string;
  /** The whole lease handle, as the caller gave it. */
  lease: string;
}

/** One queue settle as the instance holding the lease runs it. */
export type RelayedSettle =
  | (SettleTarget & { op: 'ack' })
  | (SettleTarget & { op: 'deadLetter'; reason: DeadLetterReason; error?: string })
  | (SettleTarget & { op: 'retry'; delayMs: number; error?: string })
  | (SettleTarget & { op: 'extendLease'; leaseMs: number });

/** What the holder answers: the settle's result, or the error it threw. */
type RelayAnswer = { ok: true; value?: unknown } | { ok: false; name: string; message: string; context: Record<string, unknown> };

const OPS: ReadonlySet<string> = new Set(['ack', 'deadLetter', 'retry', 'extendLease']);

export function encodeSettle(settle: RelayedSettle): Uint8Array {
  return Buffer.from(JSON.stringify(settle));
}

/** @throws KanbanValidationError for bytes that are no relayed settle (anyone allowed on the broker can send to an instance). */
export function decodeSettle(bytes: Uint8Array): RelayedSettle {
  let settle: Partial<RelayedSettle> | undefined;
  try {
    settle = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<RelayedSettle>;
  } catch {
    settle = undefined;
  }
  const valid =
    typeof settle === 'object' &&
    settle !== null &&
    OPS.has(String(settle.op)) &&
    [settle.id, settle.domain, settle.lease].every((field) => typeof field === 'string') &&
    hasOperands(settle as RelayedSettle);
  if (!valid) throw new KanbanValidationError([{ field: 'relay', message: 'is not a relayed settle' }]);
  return settle as RelayedSettle;
}

function hasOperands(settle: RelayedSettle): boolean {
  const nonNegative = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  switch (settle.op) {
    case 'deadLetter':
      return typeof settle.reason === 'string' && (settle.error === undefined || typeof settle.error === 'string');
    case 'retry':
      return nonNegative(settle.delayMs) && (settle.error === undefined || typeof settle.error === 'string');
    case 'extendLease':
      return nonNegative(settle.leaseMs);
    default:
      return true;
  }
}

export function encodeAnswer(outcome: { value: unknown } | { error: unknown }): Uint8Array {
  let answer: RelayAnswer;
  if ('value' in outcome) {
    answer = { ok: true, value: outcome.value };
  } else {
    const error = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
    answer = { ok: false, name: error.name, message: error.message, context: error instanceof KanbanError ? error.context : {} };
  }
  return Buffer.from(JSON.stringify(answer));
}

/**
 * The holder's result, or its error rebuilt as the same typed error, so the caller (an HTTP
 * worker at another instance) sees what it would have seen at the holder: 409 for a stale lease.
 */
export function decodeAnswer<T>(bytes: Uint8Array, settle: RelayedSettle): T {
  const answer = JSON.parse(Buffer.from(bytes).toString('utf8')) as RelayAnswer;
  if (answer.ok) return answer.value as T;
  throw rebuildError(answer, settle);
}

function rebuildError(answer: Extract<RelayAnswer, { ok: false }>, settle: RelayedSettle): KanbanError {
  switch (answer.name) {
    case LeaseExpiredError.name:
      return new LeaseExpiredError(settle.id, settle.domain);
    case ItemNotFoundError.name:
      return new ItemNotFoundError(settle.id, settle.domain);
    case KanbanValidationError.name:
      return new KanbanValidationError(Array.isArray(answer.context.errors) ? (answer.context.errors as FieldError[]) : [{ field: 'lease', message: answer.message }]);
    case BrokerUnavailableError.name:
      return new BrokerUnavailableError(typeof answer.context.broker === 'string' ? answer.context.broker : 'unknown', `at the instance holding the lease: ${answer.message}`);
    default:
      return new KanbanError(`The instance holding the lease failed to settle item ${settle.id}: ${answer.message}`, { name: answer.name });
  }
}
