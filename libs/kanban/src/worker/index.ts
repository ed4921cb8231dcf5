export * from './kanban-handler.decorator';
export * from './kanban-context';
export * from './settle-control';
export * from './kanban.server';
export * from './kanban-worker-pool';
export { type WorkerStatus, type WorkerState } from './kanban-worker';
export * from './worker.module';
