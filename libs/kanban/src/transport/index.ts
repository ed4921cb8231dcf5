export * from './kanban-transport';
