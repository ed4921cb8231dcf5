// @ts-check
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

/** Node's globals for the plain CommonJS scripts (jest config, test fixtures, build helpers). */
const NODE_COMMONJS_GLOBALS = {
  __dirname: 'readonly',
  process: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

/** Deep imports into a framework's build output change without notice: import from the package entry point. */
const NEST_PRIVATE_PATHS = { group: ['@nestjs/*/dist', '@nestjs/*/dist/*'], message: "Import from the package entry point: a framework's private paths change without notice." };

export default defineConfig(
  {
    ignores: ['**/node_modules/', '**/dist/', 'data/', 'coverage/', '.tmp/', 'bench/results/'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Prefixing an intentionally unused parameter or binding with _ says so.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An async method without await is how a throw becomes a rejection for callers of a Promise-returning contract.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught error as it came is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      eqeqeq: ['error', 'always'],
      'no-restricted-imports': ['error', { patterns: [NEST_PRIVATE_PATHS] }],
    },
  },
  {
    // The library logs through Nest's Logger and keeps its metrics on an injected registry.
    files: ['libs/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [NEST_PRIVATE_PATHS],
          paths: [{ name: 'prom-client', importNames: ['register'], message: "Use the injected registry, never prom-client's global one: two apps in one process would collide." }],
        },
      ],
    },
  },
  {
    files: ['apps/**/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Jest's asymmetric matchers (expect.any, expect.objectContaining) and supertest's response bodies are typed `any` by their libraries.
    files: ['test/**/*.ts', '**/test/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: NODE_COMMONJS_GLOBALS },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
