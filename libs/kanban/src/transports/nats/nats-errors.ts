import { JetStreamApiError } from './jetstream-client';
import { errors as natsErrors } from './nats-client';
import { BrokerUnavailableError, KanbanError, QueueFullError } from '../../errors';
import { NATS_QUEUE_FULL_RETRY_AFTER_MS } from './nats.constants';

/** JetStream API error codes kanban reacts to (nats-server `server/errors.json`). */
export const JS_ERR = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  streamNameInUse: 10058,
  subjectsOverlap: 10065,
  noMessageFound: 10037,
  /** Deleting a message by a sequence the stream no longer holds. */
  sequenceNotFound: 10057,
  /** Expected-stream mismatch: the subject is captured by a stream kanban did not create for it. */
  wrongStream: 10060,
  /** The JetStream meta group has no leader (quorum lost, or one being elected). */
  clusterUnavailable: 10008,
  /** A publish whose Nats-Expected-Last-Subject-Sequence is not the subject's: a compare-and-set that lost. */
  wrongLastSequence: 10071,
} as const;

export function jsApiCode(error: unknown): number | undefined {
  const api = findCause(error, JetStreamApiError);
  return api?.code;
}

/** nats.js wraps errors (a RequestError around a NoRespondersError, …): looks through `cause`. */
export function findCause<T extends Error>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}

/**
 * What a stream without a leader answers while JetStream elects one (or a deleted stream, declared
 * again on the next attempt): nothing, no responders, a leaderless meta group, or a request lost
 * with the connection to a server that died.
 */
export function mayAnswerSoon(error: unknown): boolean {
  const code = jsApiCode(error);
  return (
    findCause(error, natsErrors.NoRespondersError) !== undefined ||
    findCause(error, natsErrors.TimeoutError) !== undefined ||
    findCause(error, natsErrors.ConnectionError) !== undefined ||
    code === JS_ERR.streamNotFound ||
    code === JS_ERR.clusterUnavailable
  );
}

/** A stream or account out of room answers with these texts (codes differ across server versions). */
const FULL_PATTERN = /maximum (messages|bytes) exceeded|resource limits exceeded|insufficient resources/i;

/**
 * Turns what nats.js throws for a publish into kanban's typed errors; the item was not stored in
 * any of these cases.
 */
export function publishError(error: unknown, queue: string, timeoutMs: number): KanbanError {
  if (error instanceof KanbanError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (FULL_PATTERN.test(message)) {
    return new QueueFullError(queue, NATS_QUEUE_FULL_RETRY_AFTER_MS, `JetStream refused the item (${message})`);
  }
  if (findCause(error, natsErrors.TimeoutError)) {
    // The server may have stored it (a frozen server stores what it read once it resumes): say so, so a producer retries with its idempotencyKey.
    return new BrokerUnavailableError('nats', `no JetStream PubAck for ${queue} within ${timeoutMs} ms; its outcome is unknown`, { cause: error });
  }
  if (findCause(error, natsErrors.NoRespondersError)) {
    return new BrokerUnavailableError('nats', `no JetStream stream answers for ${queue} (JetStream down or the stream was deleted)`, { cause: error });
  }
  return new BrokerUnavailableError('nats', `publish to ${queue} failed: ${message}`, { cause: error });
}

/** For every other broker call (settle, info, dead-letter store): typed, with what was attempted. */
export function brokerError(error: unknown, action: string): KanbanError {
  if (error instanceof KanbanError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BrokerUnavailableError('nats', `${action} failed: ${message}`, { cause: error });
}

/** Runs a JetStream call, turning what it throws into the typed broker error for `action`. */
export async function brokerCall<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw brokerError(error, action);
  }
}
