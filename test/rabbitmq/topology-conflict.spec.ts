import { TopologyConflictError } from '../../libs/kanban/src/errors';
import { contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

describe('RabbitMQ topology conflicts', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('refuses a work queue declared elsewhere with other arguments, names queue and argument, and keeps serving other queues', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const queue = harness.namesOf(transport).workQueue('normal', 'orders');
    const channel = await (await harness.admin()).createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 5 } });
    await channel.close();
    const elsewhere = makeItem({ priority: 'high' });

    // Act
    const conflict = await transport.publish(makeItem()).catch((error: unknown) => error);
    const receipt = await transport.publish(elsewhere);
    const [delivery] = await pullExactly(transport, { domain: 'orders', priority: 'high' }, 1);

    // Assert
    expect(conflict).toBeInstanceOf(TopologyConflictError);
    expect((conflict as Error).message).toContain(queue);
    expect((conflict as Error).message).toMatch(/inequivalent arg 'x-[a-z-]+'/);
    expect(receipt.id).toBe(elsewhere.id);
    expect(delivery.id).toBe(elsewhere.id);
    expect(transport.currentStatus.state).toBe('up');
  });

  it('reports a changed maxAttempts as a conflict on the existing queue instead of redeclaring it', async () => {
    // Arrange
    const first = await harness.create(contractSettings({ maxAttempts: 3 }));
    await first.ensureQueue('low', 'orders');
    const second = harness.sibling(first, contractSettings({ maxAttempts: 5 }));
    await second.connect();

    // Act
    const conflict = await second.ensureQueue('low', 'orders').catch((error: unknown) => error);
    const again = await second.ensureQueue('low', 'orders').catch((error: unknown) => error);

    // Assert
    expect(conflict).toBeInstanceOf(TopologyConflictError);
    expect((conflict as Error).message).toContain("'x-delivery-limit'");
    expect(again).toBeInstanceOf(TopologyConflictError);
    await second.close();
  });

  it('refuses to connect when the dead-letter log exists as a classic queue', async () => {
    // Arrange
    const first = await harness.create(contractSettings());
    const deadLetterLog = harness.namesOf(first).deadLetterLog;
    await first.close();
    const channel = await (await harness.admin()).createChannel();
    await channel.deleteQueue(deadLetterLog);
    await channel.assertQueue(deadLetterLog, { durable: true });
    await channel.close();
    const second = harness.sibling(first, contractSettings());

    // Act
    const conflict = await second.connect().catch((error: unknown) => error);

    // Assert
    expect(conflict).toBeInstanceOf(TopologyConflictError);
    expect((conflict as Error).message).toContain(deadLetterLog);
    expect(second.currentStatus.state).toBe('degraded');
    await second.close();
  });
});
