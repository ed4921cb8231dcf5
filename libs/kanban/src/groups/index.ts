export * from './kanban-groups';
export * from './groups.module';
