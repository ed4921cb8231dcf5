export * from './dashboard.module';
export * from './dashboard-overview.controller';
