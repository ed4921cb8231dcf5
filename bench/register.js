// Runs the bench's TypeScript unbuilt: swc compiles each file in memory (the hook the crash tests
// use), and `@tps/kanban` resolves to the library's sources as tsconfig's `paths` says, so the
// bench measures the code in this checkout without a build step.
require('../test/embedded/fixtures/register-swc.js');
const Module = require('node:module');
const { join } = require('node:path');

const LIBRARY_ENTRY = join(__dirname, '..', 'libs', 'kanban', 'src', 'index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === '@tps/kanban' ? LIBRARY_ENTRY : request, ...rest);
};
