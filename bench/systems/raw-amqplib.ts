import { connect, type ConfirmChannel } from 'amqplib';
import type { BenchItem, QueueSystem } from './queue-system';

/** Unacked deliveries the consumer channel allows. */
export const RAW_AMQP_PREFETCH = 100;

/**
 * The reference for kanban on RabbitMQ: a durable quorum queue, persistent messages on a confirm
 * channel (publish resolves on the broker's confirm), a consumer with manual ack and a prefetch.
 */
export function rawAmqplib(): QueueSystem {
  return {
    id: 'raw-amqplib',
    label: 'raw amqplib',
    unavailable: (brokers) => (brokers.rabbitmq ? undefined : `no rabbitmq-server: ${brokers.missing.rabbitmq}`),
    open: async ({ brokers, tag }) => {
      const connection = await connect(brokers.rabbitmq!.url);
      const publisher: ConfirmChannel = await connection.createConfirmChannel();
      const queue = `raw.${tag}`;
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const consumerChannel = await connection.createChannel();
      let consumerTag: string | undefined;
      return {
        publish: (item) =>
          new Promise<void>((resolve, reject) => {
            publisher.sendToQueue(queue, Buffer.from(JSON.stringify(item)), { persistent: true }, (error: Error | null) => (error ? reject(error) : resolve()));
          }),
        startConsumers: async (hooks) => {
          await consumerChannel.prefetch(RAW_AMQP_PREFETCH);
          const consumer = await consumerChannel.consume(queue, (message) => {
            if (!message) return;
            hooks.onStart(JSON.parse(message.content.toString('utf8')) as BenchItem);
            consumerChannel.ack(message);
            hooks.onAcked();
          });
          consumerTag = consumer.consumerTag;
        },
        close: async () => {
          if (consumerTag) await consumerChannel.cancel(consumerTag);
          await publisher.deleteQueue(queue);
          await connection.close();
        },
      };
    },
  };
}
