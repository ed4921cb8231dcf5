export * from './dead-letters.module';
export * from './dead-letters.controller';
export * from './dto/list-dead-letters.query';
export * from './dead-letter-search';
