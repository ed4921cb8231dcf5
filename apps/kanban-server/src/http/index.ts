export * from './host-allowlist';
export * from './host-not-allowed.exception';
export * from './json-body';
export * from './json-depth';
export * from './security-headers';
