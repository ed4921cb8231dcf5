export * from './connection-settings';
export * from './kanban-api.client';
