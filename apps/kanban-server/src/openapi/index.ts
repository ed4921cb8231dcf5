export * from './openapi.constants';
