export * from './kanban-scheduler';
export * from './schedule.interface';
export * from './schedule-coordination.interface';
export * from './scheduler.module';
