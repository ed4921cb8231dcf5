import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { BenchItem, QueueSystem } from './queue-system';

/** Messages the pull consumer keeps requested ahead: nats.js' default for consume(). */
export const RAW_JETSTREAM_MAX_MESSAGES = 100;

/**
 * The reference for kanban on NATS, written as the nats.js docs show it: a work-queue stream on
 * file storage, a durable pull consumer with explicit ack, consume() and a plain ack per message.
 */
export function rawJetStream(): QueueSystem {
  return {
    id: 'raw-jetstream',
    label: 'raw JetStream',
    unavailable: (brokers) => (brokers.nats ? undefined : `no nats-server: ${brokers.missing.nats}`),
    open: async ({ brokers, tag }) => {
      const nc = await connect({ servers: brokers.nats!.url, name: 'bench-raw-jetstream' });
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const stream = `RAW_${tag.toUpperCase()}`;
      const subject = `raw.${tag}`;
      await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
      await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
      const encoder = new TextEncoder();
      let messages: ConsumerMessages | undefined;
      let consuming: Promise<void> | undefined;
      return {
        publish: async (item) => {
          await js.publish(subject, encoder.encode(JSON.stringify(item)));
        },
        startConsumers: async (hooks) => {
          const consumer = await js.consumers.get(stream, 'bench');
          const iterator = await consumer.consume({ max_messages: RAW_JETSTREAM_MAX_MESSAGES });
          messages = iterator;
          consuming = (async () => {
            for await (const message of iterator) {
              hooks.onStart(message.json<BenchItem>());
              message.ack();
              hooks.onAcked();
            }
          })();
        },
        close: async () => {
          await messages?.close();
          await consuming;
          await jsm.streams.delete(stream);
          await nc.drain();
        },
      };
    },
  };
}
