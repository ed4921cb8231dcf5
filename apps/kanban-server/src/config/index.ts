export * from './server-config.constants';
export * from './server-config.interface';
export * from './server-config.module';
export * from './environment.error';
export * from './load-server-config';
export { redactUrl } from './broker-options';
