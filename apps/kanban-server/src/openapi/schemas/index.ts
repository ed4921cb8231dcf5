export * from './json-value.schema';
export * from './work.schema';
export * from './dead-letter.schema';
export * from './coordinator-health.schema';
export * from './queues.schema';
export * from './schedule.schema';
export * from './health.schema';
export * from './kanban-fields.schema';
