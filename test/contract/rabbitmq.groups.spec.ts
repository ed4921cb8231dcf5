import { createRabbitMqHarness } from '../rabbitmq/rabbitmq-test-harness';
import { describeGroupsContract } from './groups-contract';

const harness = createRabbitMqHarness();
afterAll(() => harness.dispose());

describeGroupsContract('rabbitmq', harness);
