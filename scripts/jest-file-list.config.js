// The project's Jest config limited to the spec files listed in the JSON array (paths relative to the repo root)
// that KANBAN_TEST_FILE_LIST names. `npm test` selects its files this way rather than by one path regex per
// file on the command line, which Jest would echo back as a wall of text in its summary.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const projectConfig = require('../jest.config.js');

const ROOT = join(__dirname, '..');
const FILE_LIST_ENV = 'KANBAN_TEST_FILE_LIST';

const listPath = process.env[FILE_LIST_ENV];
if (!listPath) throw new Error(`${FILE_LIST_ENV} is not set: point it at a JSON array of spec paths relative to ${ROOT}.`);
const files = JSON.parse(readFileSync(listPath, 'utf8'));

/** A file's own absolute path, escaped, matches just it. */
const exactly = (file) => `^${join(ROOT, file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

module.exports = { ...projectConfig, rootDir: ROOT, testRegex: files.map(exactly) };
