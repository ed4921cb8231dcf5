export * from './groups-api.module';
export * from './groups.controller';
