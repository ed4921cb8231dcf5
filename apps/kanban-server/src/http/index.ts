export * from './json-body';
export * from './json-depth';
