export * from './validate-publish-request';
