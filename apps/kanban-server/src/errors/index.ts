export * from './api-exception.filter';
export * from './error-body';
export * from './kanban-error-status';
