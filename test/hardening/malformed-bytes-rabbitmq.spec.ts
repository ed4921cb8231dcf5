import { describeMalformedBytes } from './support/malformed-bytes-scenario';

describeMalformedBytes('rabbitmq');
