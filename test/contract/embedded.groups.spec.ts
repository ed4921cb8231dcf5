import { createEmbeddedHarness } from '../embedded/embedded-harness';
import { describeGroupsContract } from './groups-contract';

describeGroupsContract('embedded', createEmbeddedHarness());
