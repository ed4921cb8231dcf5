export * from './schedules.module';
export * from './schedules.controller';
export * from './dto/create-schedule.dto';
export * from './dto/create-canary.dto';
