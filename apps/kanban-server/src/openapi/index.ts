export * from './openapi.constants';
export * from './api-error-codes';
export * from './api-errors.decorator';
export * from './error-body.schema';
export * from './openapi-document';
export * from './schemas';
