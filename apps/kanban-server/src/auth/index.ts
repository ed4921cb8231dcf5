export * from './bearer-token.guard';
export * from './requires-token.decorator';
