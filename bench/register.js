// Runs the bench's TypeScript unbuilt: swc compiles each file in memory (the hook the crash tests
// use), and `@tps/kanban` resolves to the library's sources as tsconfig's `paths` says, so the
// bench measures the code in this checkout without a build step. BENCH_KANBAN_SRC points it at
// another copy of libs/kanban/src (inside this checkout, so node_modules resolve), to measure a
// candidate change before and after in the same way.
require('../test/embedded/fixtures/register-swc.js');
const Module = require('node:module');
const { join, resolve } = require('node:path');

const LIBRARY_ENTRY = process.env.BENCH_KANBAN_SRC ? join(resolve(process.env.BENCH_KANBAN_SRC), 'index.ts') : join(__dirname, '..', 'libs', 'kanban', 'src', 'index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === '@tps/kanban' ? LIBRARY_ENTRY : request, ...rest);
};
