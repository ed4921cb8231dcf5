import { describePoisonItems } from './support/poison-scenario';

describePoisonItems('rabbitmq');
