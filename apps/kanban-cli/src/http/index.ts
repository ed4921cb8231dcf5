export * from './connection-settings';
export * from './kanban-api.client';
export * from './path-segment';
