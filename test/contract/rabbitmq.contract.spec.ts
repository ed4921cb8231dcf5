import { createRabbitMqHarness } from '../rabbitmq/rabbitmq-test-harness';
import { describeTransportContract } from './transport-contract';

const harness = createRabbitMqHarness();
afterAll(() => harness.dispose());

describeTransportContract('rabbitmq', harness);
