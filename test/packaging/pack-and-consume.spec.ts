import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');
/** Packing compiles the library; installing may have to build better-sqlite3 from source. */
const PACK_AND_INSTALL_TIMEOUT_MS = 6 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const CONSUMER_RUN_TIMEOUT_MS = 60_000;

/** What a separate Nest app installs beside the library: its peer dependencies, at the versions this repo runs. */
const CONSUMER_PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/schedule',
  '@nestjs/terminus',
  'reflect-metadata',
  'rxjs',
];

interface PackageJson {
  name: string;
  version: string;
}

interface LockFile {
  packages: Record<string, { version: string }>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

function run(command: string, args: string[], cwd: string, timeout = COMMAND_TIMEOUT_MS): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
}

function lockedVersion(name: string, lock: LockFile): string {
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in package-lock.json; run npm ci in the repository first`);
  return entry.version;
}

/**
 * Install scripts are skipped so the test does not spend minutes compiling SQLite: when the app
 * resolved the better-sqlite3 this repo was installed with, the repo's compiled binding is the one
 * its install script would build (same version, same Node); otherwise it is rebuilt for real.
 */
function provideBetterSqlite3Binding(appDir: string, lock: LockFile): void {
  const installed = readJson<PackageJson>(join(appDir, 'node_modules', 'better-sqlite3', 'package.json')).version;
  if (installed !== lockedVersion('better-sqlite3', lock)) {
    run('npm', ['rebuild', 'better-sqlite3'], appDir);
    return;
  }
  const release = join('node_modules', 'better-sqlite3', 'build', 'Release');
  mkdirSync(join(appDir, release), { recursive: true });
  copyFileSync(join(ROOT, release, 'better_sqlite3.node'), join(appDir, release, 'better_sqlite3.node'));
}

describe('the library packed with npm pack and installed into a separate Nest app', () => {
  const rootPackage = readJson<PackageJson>(join(ROOT, 'package.json'));
  const libraryPackage = readJson<PackageJson>(join(ROOT, 'libs', 'kanban', 'package.json'));
  const lock = readJson<LockFile>(join(ROOT, 'package-lock.json'));
  let workDir: string;
  let tarball: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'kanban-pack-'));
    run('npm', ['run', 'pack:lib'], ROOT);
    tarball = join(ROOT, 'dist', 'packages', `tps-kanban-${libraryPackage.version}.tgz`);
  }, PACK_AND_INSTALL_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('is @tps/kanban at the version of the repository', () => {
    expect(libraryPackage).toEqual(expect.objectContaining({ name: '@tps/kanban', version: rootPackage.version }));
  });

  it('holds the compiled library, its declarations, package.json and README, and nothing else', () => {
    // Act
    const files = run('tar', ['tzf', tarball], ROOT).split('\n').filter(Boolean);

    // Assert
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts']));
    const unexpected = files.filter((file) => !/^package\/(package\.json|README\.md|dist\/.+\.(js|d\.ts))$/.test(file));
    expect(unexpected).toEqual([]);
    expect(files.filter((file) => /spec|\.tsbuildinfo$|\.map$/.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('runs a @KanbanHandler on the embedded store in a plain CommonJS Nest app that installed the tarball', () => {
    // Arrange
    const appDir = join(workDir, 'consumer-app');
    mkdirSync(appDir);
    const tarballName = `tps-kanban-${libraryPackage.version}.tgz`;
    copyFileSync(tarball, join(appDir, tarballName));
    copyFileSync(join(FIXTURES, 'consumer-app', 'main.js'), join(appDir, 'main.js'));
    const dependencies = Object.fromEntries([['@tps/kanban', `file:./${tarballName}`], ...CONSUMER_PEERS.map((name) => [name, lockedVersion(name, lock)])]);
    writeFileSync(join(appDir, 'package.json'), `${JSON.stringify({ name: 'kanban-consumer-app', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], appDir);
    provideBetterSqlite3Binding(appDir, lock);

    // Act
    const stdout = run(process.execPath, ['main.js', join(workDir, 'kanban.db')], appDir, CONSUMER_RUN_TIMEOUT_MS);

    // Assert
    const installed = readJson<PackageJson>(join(appDir, 'node_modules', '@tps', 'kanban', 'package.json'));
    expect(installed.version).toBe(libraryPackage.version);
    const lastLine = stdout.trim().split('\n').pop() as string;
    const result = JSON.parse(lastLine) as {
      receipt: { id: string; broker: string; duplicate: boolean };
      handled: { id: string; payload: unknown; attempts: number; workerId: string };
      depth: { priority: string; domain: string; ready: number; inFlight: number }[];
    };
    expect(result.receipt).toEqual({ id: expect.any(String), broker: 'embedded', duplicate: false });
    expect(result.handled).toEqual({ id: result.receipt.id, payload: { orderId: 42 }, attempts: 1, workerId: expect.stringContaining('receipts') });
    expect(result.depth).toEqual([expect.objectContaining({ priority: 'high', domain: 'receipts', ready: 0, inFlight: 0 })]);
  }, PACK_AND_INSTALL_TIMEOUT_MS);
});
