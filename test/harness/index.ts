export { natsBroker, rabbitmqBroker, BrokerHandle } from './broker-handle';
export { testNamespace, type TestNamespace } from './test-namespace';
export { waitFor, type WaitForOptions } from './wait-for';
export { freePort } from './free-port';
export { startPrivateNatsServer, type PrivateNatsServer, type LocalNatsOptions } from './local-nats';
export { BROKER_URL_ENV, BROKERS_ENV } from './global-setup';
export type { BrokerKind, BrokerSource } from './broker-state';
export { itControllingBrokers } from './chaos-test';
export { allDeadLetters, type DeadLetterLister } from './all-dead-letters';
