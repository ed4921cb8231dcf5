export * from './handler-spans';
export * from './publish-span';
export * from './trace-headers';
export * from './traceparent';
export * from './tracing.constants';
