export * from './kanban-logger';
