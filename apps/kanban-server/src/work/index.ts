export * from './work.module';
export * from './work.controller';
export * from './pulled-item';
export * from './work.constants';
export * from './dto';
