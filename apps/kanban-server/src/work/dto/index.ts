export * from './publish-work.dto';
export * from './pull-work.dto';
export * from './settle-work.dto';
export * from './nack-work.dto';
export * from './retry-work.dto';
export * from './extend-lease.dto';
