import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { contractSettings, depthOf, makeItem, pullExactly } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

describe('RabbitMQ unroutable publishes', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('rejects a publish no queue is bound for instead of dropping it, and the next publish declares the binding again', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const names = harness.namesOf(transport);
    await transport.ensureQueue('normal', 'orders');
    const channel = await (await harness.admin()).createChannel();
    await channel.unbindQueue(names.workQueue('normal', 'orders'), names.workExchange, names.routingKey('normal', 'orders'));
    await channel.close();
    const lost = makeItem({ payload: 'unroutable' });
    const kept = makeItem({ payload: 'routed again' });

    // Act
    const refusal = await transport.publish(lost).catch((error: unknown) => error);
    const receipt = await transport.publish(kept);
    const deliveries = await pullExactly(transport, { domain: 'orders', priority: 'normal' }, 1);

    // Assert
    expect(refusal).toBeInstanceOf(BrokerUnavailableError);
    expect((refusal as Error).message).toContain('unroutable');
    expect(receipt.id).toBe(kept.id);
    expect(deliveries.map((delivery) => delivery.id)).toEqual([kept.id]);
    expect(await depthOf(transport, 'normal', 'orders')).toEqual({ ready: 0, inFlight: 1 });
  });

  it('rejects publishes while the work exchange is deleted, and the next publish declares it again', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const names = harness.namesOf(transport);
    await transport.ensureQueue('normal', 'orders');
    const channel = await (await harness.admin()).createChannel();
    await channel.deleteExchange(names.workExchange);
    await channel.close();
    const kept = makeItem({ payload: 'after the exchange came back' });

    // Act
    const refusal = await transport.publish(makeItem()).catch((error: unknown) => error);
    const receipt = await transport.publish(kept);
    const deliveries = await pullExactly(transport, { domain: 'orders', priority: 'normal' }, 1);

    // Assert
    expect(refusal).toBeInstanceOf(BrokerUnavailableError);
    expect(receipt.id).toBe(kept.id);
    expect(deliveries.map((delivery) => delivery.id)).toEqual([kept.id]);
  });
});
