export * from './settle-relay';
export * from './relayed-settle';
export * from './relay.constants';
