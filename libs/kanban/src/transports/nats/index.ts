export * from './nats.transport';
export * from './nats.constants';
