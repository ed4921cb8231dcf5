import { createEmbeddedHarness } from '../embedded/embedded-harness';
import { describeTransportContract } from './transport-contract';

describeTransportContract('embedded', createEmbeddedHarness());
