import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { createInbox } from './nats-client';
import { BrokerUnavailableError } from '../../errors';
import { NATS_PULL_ANSWER_TIMEOUT_MS } from './nats.constants';

const STATUS_NO_MESSAGES = 404;
const STATUS_REQUEST_TIMEOUT = 408;
/** Limits, leadership change, server shutdown, consumer deleted: the request ended; only a deleted consumer is an error. */
const STATUS_CONFLICT = 409;
const STATUS_NO_RESPONDERS = 503;

/**
 * One no-wait pull request on a durable consumer: returns what is ready now, up to `batch`.
 * nats.js' fetch() waits at least a second and cannot take no-wait, so this speaks the pull
 * protocol directly; every message it receives is returned (none is left delivered and unread).
 */
export async function pullReady(nc: NatsConnection, stream: string, consumer: string, batch: number): Promise<Msg[]> {
  const inbox = createInbox();
  const subscription = nc.subscribe(inbox);
  const received: Msg[] = [];
  const timer = setTimeout(() => subscription.unsubscribe(), NATS_PULL_ANSWER_TIMEOUT_MS);
  try {
    // no_wait alone: with `expires` too, servers wait out the expiry on an empty queue.
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, no_wait: true }), { reply: inbox });
    for await (const message of subscription) {
      const status = statusOf(message);
      if (status === undefined) {
        received.push(message);
        if (received.length >= batch) break;
        continue;
      }
      if (status === STATUS_NO_MESSAGES || status === STATUS_REQUEST_TIMEOUT) break;
      if (status === STATUS_CONFLICT && !/deleted/i.test(message.headers?.description ?? '')) break;
      if (status === STATUS_NO_RESPONDERS) throw new BrokerUnavailableError('nats', `JetStream did not answer a pull on ${stream}`);
      if (status >= 400) throw new BrokerUnavailableError('nats', `pull on ${stream}/${consumer} refused: ${status} ${message.headers?.description ?? ''}`.trim());
    }
    return received;
  } finally {
    clearTimeout(timer);
    subscription.unsubscribe();
  }
}

/** Status messages (no messages, timeout, heartbeat) carry a code and no payload; deliveries do not. */
function statusOf(message: Msg): number | undefined {
  const code = message.headers?.code;
  return code && message.data.length === 0 ? code : undefined;
}

/**
 * Resolves when something is published on `subject` (a core subscription sees every publish a
 * stream captures), after `maxWaitMs`, or when `signal` aborts. A waiting pull uses it to recheck
 * the queues at once instead of polling them.
 */
export function publishedOrTimeout(nc: NatsConnection, subject: string, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
  if (nc.isClosed() || nc.isDraining()) return Promise.resolve();
  return new Promise((resolve) => {
    const subscription = nc.subscribe(subject, { max: 1 });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      subscription.unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, maxWaitMs);
    signal?.addEventListener('abort', done, { once: true });
    void (async () => {
      for await (const _message of subscription) break;
      done();
    })();
  });
}
