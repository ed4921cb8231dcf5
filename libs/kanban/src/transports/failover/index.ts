export * from './failover.transport';
export * from './failover.constants';
export * from './outbox-store';
