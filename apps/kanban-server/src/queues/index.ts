export * from './queues.module';
export * from './queues.controller';
