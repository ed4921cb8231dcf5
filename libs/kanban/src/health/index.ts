export * from './transport.health';
export * from './queue.health';
export * from './workers.health';
export * from './kanban-health.module';
