import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildCli } from './support/kanban-cli';

const CLI_DIR = resolve(__dirname, '../../apps/kanban-cli');

describe('the @tps/kanban-cli package', () => {
  let dir: string;

  beforeAll(() => {
    buildCli();
    dir = mkdtempSync(join(tmpdir(), 'kanban-cli-pack-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the kanban bin with its compiled code and runs on its own, with no dependency installed', () => {
    const manifest = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8'));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: CLI_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', dir]);

    const version = execFileSync(process.execPath, [join(dir, 'package', manifest.bin.kanban), '--version'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

    expect(manifest.dependencies).toBeUndefined();
    expect(packed.files.map((file: { path: string }) => file.path)).toEqual(expect.arrayContaining(['bin/kanban.js', 'dist/main.js', 'package.json', 'README.md']));
    expect(version.trim()).toBe(manifest.version);
  });
});
