export * from './error-body';
export * from './kanban-error-status';
export * from './kanban-error-response';
export * from './kanban-exception.filter';
