export * from './kanban-scheduler';
export * from './schedule.interface';
export * from './schedule-coordination.interface';
export * from './canary-result.interface';
export * from './canary-tracker';
export * from './scheduler.module';
