import { createFailoverHarness } from '../failover/failover-harness';
import { describeTransportContract } from './transport-contract';

const harness = createFailoverHarness();
afterAll(() => harness.dispose());

// Both brokers up: publishes go to NATS, pulls look at NATS first and RabbitMQ second.
describeTransportContract('failover', harness);
