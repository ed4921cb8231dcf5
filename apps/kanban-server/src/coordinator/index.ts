export * from './coordinator-api.module';
export * from './coordinator.controller';
export * from './dto/adjust-workers.dto';
