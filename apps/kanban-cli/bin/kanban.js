#!/usr/bin/env node
'use strict';
// The bin npm links at install, before the root `prepare` script compiles the TypeScript: a bin
// pointing into dist/ would not be linked at all on a fresh `npm ci`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('kanban: the CLI is not built: run `npm run build:cli` (npm ci does it)\n');
  process.exit(1);
}
require(main);
