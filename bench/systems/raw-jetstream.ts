import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import type { BenchItem, ConsumerHooks, QueueSystem } from './queue-system';

/** Messages the pull consumer keeps requested ahead: nats.js' default for consume(). */
export const RAW_JETSTREAM_MAX_MESSAGES = 100;

/** Kanban on NATS never keeps its stream's duplicate window below this (NATS_MIN_DUPLICATE_WINDOW_MS). */
const CONFIRMED_DUPLICATE_WINDOW_MS = 120_000;

interface RawJetStreamOptions {
  /**
   * Give each item what kanban on NATS guarantees: a Nats-Msg-Id the stream deduplicates within
   * its duplicate window, and an ack the server confirms (ackAck) before the item counts as acked.
   */
  confirmed: boolean;
}

/**
 * The reference for kanban on NATS, written as the nats.js docs show it: a work-queue stream on
 * file storage, a durable pull consumer with explicit ack, consume() and a plain ack per message.
 */
export const rawJetStream = (): QueueSystem => rawJetStreamSystem({ confirmed: false });

/**
 * The same with kanban's per-item guarantees, so the gap to kanban that is not their price shows;
 * informational, the targets stay against the plain reference.
 */
export const rawJetStreamConfirmed = (): QueueSystem => rawJetStreamSystem({ confirmed: true });

function rawJetStreamSystem({ confirmed }: RawJetStreamOptions): QueueSystem {
  return {
    id: confirmed ? 'raw-jetstream-confirmed' : 'raw-jetstream',
    label: confirmed ? 'raw JetStream (confirmed)' : 'raw JetStream',
    unavailable: (brokers) => (brokers.nats ? undefined : `no nats-server: ${brokers.missing.nats}`),
    open: async ({ brokers, tag }) => {
      const nc = await connect({ servers: brokers.nats!.url, name: confirmed ? 'bench-raw-jetstream-confirmed' : 'bench-raw-jetstream' });
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const stream = `RAW_${tag.toUpperCase()}`;
      const subject = `raw.${tag}`;
      const dedup = confirmed ? { duplicate_window: nanos(CONFIRMED_DUPLICATE_WINDOW_MS) } : {};
      await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, ...dedup });
      await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
      const encoder = new TextEncoder();
      const acks = confirmed ? new ConfirmedAcks() : undefined;
      let messages: ConsumerMessages | undefined;
      let consuming: Promise<void> | undefined;
      return {
        publish: async (item) => {
          // The stream is the run's own, so the item number is unique within its duplicate window.
          await js.publish(subject, encoder.encode(JSON.stringify(item)), confirmed ? { msgID: String(item.n) } : undefined);
        },
        startConsumers: async (hooks) => {
          const consumer = await js.consumers.get(stream, 'bench');
          const iterator = await consumer.consume({ max_messages: RAW_JETSTREAM_MAX_MESSAGES });
          messages = iterator;
          consuming = (async () => {
            for await (const message of iterator) {
              hooks.onStart(message.json<BenchItem>());
              if (acks) acks.start(message, hooks);
              else {
                message.ack();
                hooks.onAcked();
              }
            }
          })();
        },
        close: async () => {
          await messages?.close();
          await consuming;
          try {
            await acks?.settled();
          } finally {
            await jsm.streams.delete(stream);
            await nc.drain();
          }
        },
      };
    },
  };
}

/**
 * Server-confirmed acks, several in flight at once: awaiting each in the consume loop would cost a
 * round trip per message, which kanban does not pay either. A failed confirmation fails the run at
 * close rather than as an unhandled rejection; the server redelivers that item meanwhile.
 */
class ConfirmedAcks {
  private readonly pending = new Set<Promise<void>>();
  private failure?: Error;

  start(message: JsMsg, hooks: ConsumerHooks): void {
    const ack: Promise<void> = message.ackAck().then(
      (sent) => (sent ? hooks.onAcked() : this.fail(new Error(`no ack was sent for stream sequence ${message.seq}`))),
      (error: unknown) => this.fail(error),
    );
    this.pending.add(ack);
    void ack.finally(() => this.pending.delete(ack));
  }

  private fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error('JetStream ack failed', { cause: error });
  }

  async settled(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}
