// tsc compiles only .ts: this copies the dashboard's page (apps/kanban-server/dashboard) to where
// the compiled server looks for it, beside its src/ folder.
// Usage: node apps/kanban-server/scripts/copy-dashboard-assets.js [outDir]
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const outDir = process.argv[2] ?? 'dist/apps/kanban-server';
cpSync(join(__dirname, '..', 'dashboard'), join(outDir, 'apps', 'kanban-server', 'dashboard'), { recursive: true });
