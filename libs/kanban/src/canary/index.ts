export * from './canary-result.interface';
export * from './canary-tracker';
export * from './canary.module';
