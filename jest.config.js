/** Nest 12 and several of its dependencies ship ESM only; swc turns them into CommonJS for Jest. */
const esmPackages = ['@nestjs', '@willsoto', 'uid', 'iterare', 'path-to-regexp', 'fast-safe-stringify', 'file-type', 'load-esm', '@nats-io'];

module.exports = {
  rootDir: '.',
  /** Nest log lines are shown only for a failed test (test/harness/held-logs-environment.js). */
  testEnvironment: '<rootDir>/test/harness/held-logs-environment.js',
  setupFilesAfterEnv: ['<rootDir>/test/harness/held-logger.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: { '^@tps/kanban$': '<rootDir>/libs/kanban/src/index.ts' },
  testTimeout: 60000,
  /** Brokers are provided once per run (test/harness): URL from the environment, testcontainers, or local binaries. */
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
};
