import { createNatsHarness } from '../nats/nats-harness';
import { describeTransportContract } from './transport-contract';

describeTransportContract('nats', createNatsHarness());
