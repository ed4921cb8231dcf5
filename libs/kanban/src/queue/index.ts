export * from './kanban-queue';
export * from './queue.module';
