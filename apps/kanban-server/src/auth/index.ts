export * from './access-role';
export * from './allows-anonymous.decorator';
export * from './bearer-token.guard';
export * from './requires-token.decorator';
export * from './role-credentials';
export * from './session.constants';
export * from './session-cookies';
