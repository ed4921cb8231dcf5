export * from './api.error';
export * from './cli.error';
export * from './server-unreachable.error';
export * from './unreadable-answer.error';
export * from './usage.error';
