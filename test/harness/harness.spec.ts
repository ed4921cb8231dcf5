import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { connect as connectAmqp } from 'amqplib';
import { itControllingBrokers, natsBroker, rabbitmqBroker, testNamespace, waitFor } from './index';

const STREAM_MESSAGES = 100;

describe('test broker harness', () => {
  it('provides a NATS server with JetStream enabled', async () => {
    // Arrange
    const nc = await connectNats({ servers: natsBroker().url });
    try {
      // Act
      const info = await (await jetstreamManager(nc)).getAccountInfo();

      // Assert
      expect(info.limits).toBeDefined();
    } finally {
      await nc.close();
    }
  });

  it('provides a RabbitMQ node that takes a queue', async () => {
    // Arrange
    const connection = await connectAmqp(rabbitmqBroker().url);
    try {
      const channel = await connection.createChannel();

      // Act
      const queue = await channel.assertQueue('', { exclusive: true });

      // Assert
      expect(queue.queue).toMatch(/^amq\.gen-/);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('gives each call a namespace of its own with valid kanban domains', () => {
    // Arrange / Act
    const [first, second] = [testNamespace(), testNamespace()];

    // Assert
    expect(first.id).not.toBe(second.id);
    expect(first.domain('payment')).toMatch(/^payment-[a-z0-9]{8}$/);
    expect(first.streamPrefix).toMatch(/^KT_[a-z0-9]{8}$/);
  });

  const chaos = itControllingBrokers('nats');
  chaos('keeps a JetStream stream across kill -9 and restart of NATS on the same port and store', async () => {
    // Arrange
    const broker = natsBroker();
    const ns = testNamespace();
    const stream = `${ns.streamPrefix}_HARNESS`;
    const subject = `harness.${ns.id}`;
    const before = await connectNats({ servers: broker.url });
    const jsm = await jetstreamManager(before);
    await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
    const js = jetstream(before);
    for (let i = 0; i < STREAM_MESSAGES; i++) await js.publish(subject, `message ${i}`);
    await before.close();

    // Act
    await broker.kill9();
    const runningAfterKill = await broker.isRunning();
    await broker.restart();

    // Assert
    const after = await connectNats({ servers: broker.url });
    try {
      const afterJsm = await jetstreamManager(after);
      const info = await afterJsm.streams.info(stream);
      const last = await afterJsm.streams.getMessage(stream, { last_by_subj: subject });
      expect(runningAfterKill).toBe(false);
      expect(info.state.messages).toBe(STREAM_MESSAGES);
      expect(last?.string()).toBe(`message ${STREAM_MESSAGES - 1}`);
      await afterJsm.streams.delete(stream);
    } finally {
      await after.close();
    }
  });

  const rabbitChaos = itControllingBrokers('rabbitmq');
  rabbitChaos(
    'keeps confirmed messages of a quorum queue across a stop and restart of RabbitMQ',
    async () => {
      // Arrange
      const broker = rabbitmqBroker();
      const queue = `${testNamespace().queuePrefix}.harness`;
      const before = await connectAmqp(broker.url);
      const channel = await before.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      for (let i = 0; i < STREAM_MESSAGES; i++) channel.sendToQueue(queue, Buffer.from(`message ${i}`), { persistent: true });
      await channel.waitForConfirms();
      await before.close();

      // Act
      await broker.stop();
      const runningAfterStop = await broker.isRunning();
      await broker.restart();

      // Assert
      const depth = await quorumQueueDepth(broker.url, queue, STREAM_MESSAGES);
      expect(runningAfterStop).toBe(false);
      expect(depth).toBe(STREAM_MESSAGES);
    },
    120_000,
  );

  rabbitChaos(
    'serves again after kill -9 and restart of RabbitMQ on the same port',
    async () => {
      // Arrange
      const broker = rabbitmqBroker();
      const queue = `${testNamespace().queuePrefix}.harness-kill`;
      const before = await connectAmqp(broker.url);
      await (await before.createChannel()).assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await before.close();

      // Act
      await broker.kill9();
      const runningAfterKill = await broker.isRunning();
      await broker.restart();

      // Assert
      const after = await connectAmqp(broker.url);
      try {
        const declared = await (await after.createChannel()).checkQueue(queue);
        expect(runningAfterKill).toBe(false);
        expect(declared.queue).toBe(queue);
      } finally {
        await after.close();
      }
    },
    120_000,
  );
});

/** Polls the queue's depth: a quorum queue elects its leader about a second after the node boots. */
async function quorumQueueDepth(url: string, queue: string, expected: number): Promise<number> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    return await waitFor(
      async () => {
        const { messageCount } = await channel.checkQueue(queue);
        return messageCount === expected ? messageCount : undefined;
      },
      { timeoutMs: 30_000, description: `${expected} messages in ${queue}` },
    );
  } finally {
    await connection.close();
  }
}
