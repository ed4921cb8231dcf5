export * from './kanban-coordinator';
export * from './coordinator-health.interface';
export * from './coordinator.module';
