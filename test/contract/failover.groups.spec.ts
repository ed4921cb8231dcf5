import { createFailoverHarness } from '../failover/failover-harness';
import { describeGroupsContract } from './groups-contract';

const harness = createFailoverHarness();
afterAll(() => harness.dispose());

// Both brokers up: groups live on NATS, the primary.
describeGroupsContract('failover', harness);
