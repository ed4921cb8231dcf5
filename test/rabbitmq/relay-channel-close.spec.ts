import { Logger } from '@nestjs/common';
import { connect } from 'amqplib';
import { RabbitMqControlChannel } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-control-channel';
import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { rabbitmqBroker, testNamespace } from '../harness';

/** A Logger that keeps what it is told instead of printing it. */
class KeptLines extends Logger {
  readonly errors: string[] = [];
  override error(message: unknown): void {
    this.errors.push(String(message));
  }
  override warn(): void {}
}

describe('RabbitMQ relay channel when its connection closes', () => {
  it('says nothing when the connection it was opening on was closed by this process (an app closing right after connect)', async () => {
    // Arrange
    const logger = new KeptLines();
    const relay = new RabbitMqControlChannel(new RabbitMqNames(testNamespace().queuePrefix), logger);
    const model = await connect(rabbitmqBroker().url);

    // Act
    const attaching = relay.attach(model);
    relay.detach();
    await model.close();
    await attaching;

    // Assert
    expect(logger.errors).toEqual([]);
  });
});
