export * from './rabbitmq.transport';
export * from './rabbitmq.constants';
