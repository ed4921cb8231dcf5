import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { createInbox } from './nats-client';
import { BrokerUnavailableError } from '../../errors';
import { NATS_LATE_ANSWER_LISTEN_MS, NATS_PULL_ANSWER_TIMEOUT_MS } from './nats.constants';

const STATUS_NO_MESSAGES = 404;
const STATUS_REQUEST_TIMEOUT = 408;
/** Limits, leadership change, server shutdown, consumer deleted: the request ended; only a deleted consumer is an error. */
const STATUS_CONFLICT = 409;
const STATUS_NO_RESPONDERS = 503;

/** What one no-wait pull request brought. */
export interface PullAnswer {
  messages: Msg[];
  /** False when the server said nothing within the answer timeout: frozen, or no consumer behind the subject (deleted). */
  answered: boolean;
}

/**
 * One no-wait pull request on a durable consumer: returns what is ready now, up to `batch`.
 * nats.js' fetch() waits at least a second and cannot take no-wait, so this speaks the pull
 * protocol directly. Every message the server delivers for the request reaches the caller: those
 * that come after the answer timeout (a server that froze while sending the answer, then resumed)
 * go to `onLate` while the request may still deliver, up to NATS_LATE_ANSWER_LISTEN_MS; without
 * `onLate` they wait for the consumer's ack wait.
 * @throws BrokerUnavailableError when JetStream refuses the pull.
 */
export function pullReady(nc: NatsConnection, stream: string, consumer: string, batch: number, onLate?: (message: Msg) => void): Promise<PullAnswer> {
  return new Promise((resolve, reject) => {
    const inbox = createInbox();
    const received: Msg[] = [];
    let answered = false;
    let settled = false;
    let delivered = 0;
    const finish = (error?: Error): void => {
      clearTimeout(answerTimer);
      clearTimeout(listenTimer);
      subscription.unsubscribe();
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve({ messages: received, answered });
    };
    const subscription = nc.subscribe(inbox, {
      callback: (error, message) => {
        if (error) return finish(new BrokerUnavailableError('nats', `pull on ${stream} failed: ${error.message}`, { cause: error }));
        answered = true;
        const status = statusOf(message);
        if (status === undefined) {
          delivered++;
          if (settled) onLate?.(message);
          else received.push(message);
          if (delivered >= batch) finish();
          return;
        }
        if (status === STATUS_NO_MESSAGES || status === STATUS_REQUEST_TIMEOUT) return finish();
        if (status === STATUS_CONFLICT && !/deleted/i.test(message.headers?.description ?? '')) return finish();
        if (status === STATUS_NO_RESPONDERS) return finish(new BrokerUnavailableError('nats', `JetStream did not answer a pull on ${stream}`));
        if (status >= 400) return finish(new BrokerUnavailableError('nats', `pull on ${stream}/${consumer} refused: ${status} ${message.headers?.description ?? ''}`.trim()));
      },
    });
    const answerTimer = setTimeout(() => {
      settled = true;
      resolve({ messages: received.splice(0), answered });
      if (!onLate) finish();
    }, NATS_PULL_ANSWER_TIMEOUT_MS);
    const listenTimer = setTimeout(() => finish(), NATS_PULL_ANSWER_TIMEOUT_MS + NATS_LATE_ANSWER_LISTEN_MS);
    listenTimer.unref();
    // no_wait alone: with `expires` too, servers wait out the expiry on an empty queue.
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, no_wait: true }), { reply: inbox });
  });
}

/** Status messages (no messages, timeout, heartbeat) carry a code and no payload; deliveries do not. */
function statusOf(message: Msg): number | undefined {
  const code = message.headers?.code;
  return code && message.data.length === 0 ? code : undefined;
}

/**
 * Resolves when something is published on one of `subjects` (a core subscription sees every
 * publish a stream captures), after `maxWaitMs`, or when `signal` aborts. A waiting pull uses it to
 * recheck the queues at once instead of polling them.
 */
export function publishedOrTimeout(nc: NatsConnection, subjects: string[], maxWaitMs: number, signal?: AbortSignal): Promise<void> {
  if (nc.isClosed() || nc.isDraining()) return Promise.resolve();
  return new Promise((resolve) => {
    const subscriptions = subjects.map((subject) => nc.subscribe(subject, { max: 1 }));
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      for (const subscription of subscriptions) subscription.unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, maxWaitMs);
    signal?.addEventListener('abort', done, { once: true });
    for (const subscription of subscriptions) {
      void (async () => {
        for await (const _message of subscription) break;
        done();
      })();
    }
  });
}
