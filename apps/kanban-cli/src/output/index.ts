export * from './cli-io.interface';
export * from './format';
export * from './output';
export * from './progress-bar';
export * from './table';
