// tsc keeps `import ... from '@tps/kanban'` as written: the path alias in tsconfig.json only steers
// type checking. This writes a package stub beside the compiled server so that Node's ordinary
// module resolution finds the library compiled with it.
// Usage: node apps/kanban-server/scripts/link-kanban-library.js [outDir]
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const outDir = process.argv[2] ?? 'dist/apps/kanban-server';
const stub = join(outDir, 'node_modules', '@tps', 'kanban');
mkdirSync(stub, { recursive: true });
writeFileSync(join(stub, 'package.json'), `${JSON.stringify({ name: '@tps/kanban', private: true, main: '../../../libs/kanban/src/index.js' }, null, 2)}\n`);
