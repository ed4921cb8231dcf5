import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Priority } from '../../interfaces/work-item.interface';
import { NATS_ATTEMPTS_HEADER, NATS_DELAY_MOVER_BATCH, NATS_DELAY_MOVER_RESTART_MS, NATS_DELAY_REQUEUE_RETRY_MS, NATS_DUE_AT_HEADER } from './nats.constants';
import { brokerError, jsApiCode, JS_ERR } from './nats-errors';
import type { NatsNames } from './nats-names';
import { publishToJetStream } from './nats-publish';
import type { NatsReplies } from './nats-replies';
import type { NatsTopology } from './nats-topology';
import type { Enqueued, QueueEntry } from './nats-group-admission';
import { groupOf } from './nats-group-of';

/** A delivery to retry later: its bytes, where it goes back, and the attempts it made. */
export interface DelayedRetry {
  priority: Priority;
  domain: string;
  data: Uint8Array;
  /** Attempts the item has made, the current delivery included. */
  attempts: number;
  /** Epoch ms from which it goes back to its queue. */
  dueAt: number;
  /** Unique per delivery, so a retry stored twice (a crash before the delivery was acked) is kept once. */
  msgId: string;
}

/**
 * Retries with a long delay. JetStream keeps a delayed NAK as an unacknowledged delivery that
 * counts against the queue's max_ack_pending, so enough of them would stop the queue. Such a
 * retry is stored in the delay stream instead (and the delivery acked), and a mover on every
 * instance brings it back: it naks a message not yet due with its remaining delay (the delay
 * consumer has no ack-pending limit), and republishes a due one to its queue with the attempts
 * made so far, then acks it. The republish's Nats-Msg-Id is the delay message's sequence, so a
 * crash between republish and ack stores it once.
 */
export class NatsDelays {
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  private closed = false;
  /** Cuts the pause between restarts short at close. */
  private readonly pause = new AbortController();

  constructor(
    private readonly js: JetStreamClient,
    private readonly replies: NatsReplies,
    private readonly names: NatsNames,
    private readonly topology: NatsTopology,
    /** Stores a due item in its queue the way a publish does (a grouped one through its group's slots or backlog). */
    private readonly enqueue: (entry: QueueEntry) => Promise<Enqueued>,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores the retry until it is due; resolves on the delay stream's PubAck.
   * @throws BrokerUnavailableError when JetStream did not take it (the delivery stays as it is).
   */
  async hold(retry: DelayedRetry): Promise<void> {
    try {
      await publishToJetStream(this.replies, {
        subject: this.names.delaySubject(retry.priority, retry.domain),
        data: retry.data,
        msgID: retry.msgId,
        stream: this.names.delayStream,
        headers: { [NATS_ATTEMPTS_HEADER]: String(retry.attempts), [NATS_DUE_AT_HEADER]: String(retry.dueAt) },
      });
    } catch (error) {
      throw brokerError(error, `storing a retry of ${retry.priority}/${retry.domain} in ${this.names.delayStream}`);
    }
  }

  /** Starts moving due items back; runs until close, starting over after a lost connection or a deleted consumer. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops the mover; resolves once its loop ended (a call it had in flight ends at the latest when the connection closes). */
  async close(): Promise<void> {
    this.closed = true;
    this.pause.abort();
    await Promise.all([this.messages?.close().catch(() => undefined), this.running]);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        const consumer = await this.js.consumers.get(this.names.delayStream, this.names.delayConsumer);
        this.messages = await consumer.consume({ max_messages: NATS_DELAY_MOVER_BATCH });
        if (this.closed) await this.messages.close();
        for await (const message of this.messages) await this.handle(message);
      } catch (error) {
        if (this.closed) return;
        this.logger.warn(`delayed retries: mover stopped (${(error as Error).message}); starting again in ${NATS_DELAY_MOVER_RESTART_MS} ms`);
        if (jsApiCode(error) === JS_ERR.consumerNotFound || jsApiCode(error) === JS_ERR.streamNotFound) {
          await this.topology.ensureShared().catch(() => undefined);
        }
      }
      if (!this.closed) await sleep(NATS_DELAY_MOVER_RESTART_MS, undefined, { signal: this.pause.signal }).catch(() => undefined);
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const dueAt = Number(message.headers?.get(NATS_DUE_AT_HEADER));
    const queue = this.names.parseDelaySubject(message.subject);
    if (!queue || !Number.isFinite(dueAt)) {
      this.logger.error(`delayed retries: message ${message.seq} on ${message.subject} names no queue or due time; it is not a kanban retry, terminated`);
      message.term('not a kanban delayed retry');
      return;
    }
    const wait = dueAt - Date.now();
    if (wait > 0) {
      message.nak(wait);
      return;
    }
    try {
      await this.enqueue({
        priority: queue.priority,
        domain: queue.domain,
        group: groupOf(message.data),
        data: message.data,
        msgId: `${this.names.delayStream}:${message.seq}`,
        headers: { [NATS_ATTEMPTS_HEADER]: message.headers?.get(NATS_ATTEMPTS_HEADER) ?? '0' },
      });
      await message.ackAck();
    } catch (error) {
      this.logger.warn(
        `delayed retries: could not move message ${message.seq} back to ${queue.priority}/${queue.domain} (${(error as Error).message}); trying again in ${NATS_DELAY_REQUEUE_RETRY_MS} ms`,
      );
      message.nak(NATS_DELAY_REQUEUE_RETRY_MS);
    }
  }
}
