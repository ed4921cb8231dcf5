export * from './metrics.constants';
export * from './kanban-metrics';
