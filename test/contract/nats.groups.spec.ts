import { createNatsHarness } from '../nats/nats-harness';
import { describeGroupsContract } from './groups-contract';

describeGroupsContract('nats', createNatsHarness());
