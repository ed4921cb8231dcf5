export * from './api-exception.filter';
