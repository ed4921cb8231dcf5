import { encodeItem } from '../../libs/kanban/src/codec';
import { deadLetterRecord } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-dead-letter-record';
import { LONG_LEASE_MS, contractSettings, makeItem } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

describe('RabbitMQ dead letters kept by an earlier version', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('moves the letters left in the old dead-letter queue into the log, where they are listed and fetched', async () => {
    // Arrange: a letter in the quorum queue earlier versions kept dead letters in.
    const transport = await harness.create(contractSettings());
    const legacy = harness.namesOf(transport).legacyDeadLetterQueue;
    const item = makeItem();
    const record = deadLetterRecord({ id: item.id, priority: 'normal', domain: 'orders', body: encodeItem(item), malformed: false }, 'nack', 'kept from before', 1, Date.now());
    const channel = await (await harness.admin()).createConfirmChannel();
    await channel.assertQueue(legacy, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    channel.sendToQueue(legacy, record.body, { persistent: true, messageId: record.messageId, headers: record.headers });
    await channel.waitForConfirms();

    // Act
    const moved = await transport.sweepStalled(LONG_LEASE_MS);

    // Assert
    const left = (await channel.checkQueue(legacy)).messageCount;
    await channel.close();
    expect(moved).toEqual([]);
    expect(left).toBe(0);
    expect((await transport.listDeadLetters({})).items.map((letter) => letter.id)).toEqual([item.id]);
    expect(await transport.getDeadLetter(item.id)).toMatchObject({ id: item.id, reason: 'nack', error: 'kept from before', item: { payload: item.payload } });
  });
});
