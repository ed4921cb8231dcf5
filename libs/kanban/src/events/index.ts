export * from './kanban-events';
