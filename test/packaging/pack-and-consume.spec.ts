import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { natsBroker, testNamespace, waitFor } from '../harness';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');
/** Packing compiles the library; a first install of a fixture's dependencies fetches them from the registry. */
const PACK_AND_INSTALL_TIMEOUT_MS = 6 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const CONSUMER_RUN_TIMEOUT_MS = 60_000;
const HTTP_APP_STEP_TIMEOUT_MS = 20_000;
/** Third-party node_modules of each fixture, kept across runs and keyed by the exact versions they hold. */
const FIXTURE_DEPENDENCY_CACHE = join(tmpdir(), 'tps-kanban-fixture-dependencies');
/** The Node majors the fixture apps run on besides the one running the tests, fetched from the npm registry's `node` package. */
const OTHER_NODE_MAJORS = ['22', '24'];
/** The NATS client packages, pure JavaScript: what an app on a Node without this repo's compiled SQLite binding uses. */
const NATS_CLIENTS = ['@nats-io/jetstream', '@nats-io/transport-node'];
/** How long the fixture's slow handler holds an item, so that SIGTERM finds it in flight. */
const SLOW_ITEM_HOLD_MS = 1_000;

/** What a separate Nest app installs beside the library: its peer dependencies, and the HTTP platform. */
const CONSUMER_PEERS = ['@nestjs/common', '@nestjs/core', '@nestjs/microservices', '@nestjs/platform-express', '@nestjs/schedule', '@nestjs/terminus', 'reflect-metadata', 'rxjs'];

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface LockFile {
  packages: Record<string, { version: string }>;
}

interface HealthBody {
  status: string;
  details: Record<string, Record<string, unknown>>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const libraryPackage = readJson<PackageJson>(join(ROOT, 'libs', 'kanban', 'package.json'));
const lock = readJson<LockFile>(join(ROOT, 'package-lock.json'));
const TARBALL_NAME = `tps-kanban-${libraryPackage.version}.tgz`;

function run(command: string, args: string[], cwd: string, timeout = COMMAND_TIMEOUT_MS): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
}

function lockedVersion(name: string): string {
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in package-lock.json; run npm ci in the repository first`);
  return entry.version;
}

/**
 * Each Nest major the library's peerDependencies advertise. Nest 12 at the versions this repo runs;
 * Nest 11 pinned, with the Terminus 11 that has no `degraded` status: a degraded indicator answers
 * `up` with `degraded: true` there, and the check stays 200.
 */
const NEST_MAJORS = [
  {
    major: 'Nest 11',
    peers: {
      '@nestjs/common': '11.2.12',
      '@nestjs/core': '11.2.12',
      '@nestjs/microservices': '11.2.6',
      '@nestjs/platform-express': '11.2.12',
      '@nestjs/schedule': '6.1.3',
      '@nestjs/terminus': '11.1.1',
      'reflect-metadata': '0.2.2',
      rxjs: '7.8.2',
    },
    degradedHealth: { status: 'ok', queue: { status: 'up', degraded: true } },
    // A SQLite-only app on Nest 11 installs with --engine-strict on Node 20.19+, as the library's engines say.
    engineStrict: true,
  },
  {
    major: 'Nest 12',
    peers: Object.fromEntries(CONSUMER_PEERS.map((name) => [name, lockedVersion(name)])),
    degradedHealth: { status: 'degraded', queue: { status: 'degraded' } },
    // @nestjs/common 12 depends on file-type 22, which declares Node >= 22: Nest 12 itself needs Node 22.
    engineStrict: false,
  },
];

/** The optional peers: broker clients and the SQLite driver, each installed only by apps whose transport uses it, and the tracing API. */
const OPTIONAL_PEERS = ['@nats-io/jetstream', '@nats-io/transport-node', 'amqplib', 'better-sqlite3', '@opentelemetry/api'];

/**
 * The fixture's dependencies other than the library: the library's own dependencies at the
 * versions this repo locks, and better-sqlite3 for the embedded store the fixtures run on, the one
 * this repo compiled (its binding is copied in: installs skip scripts so as not to spend minutes
 * compiling SQLite). No broker client: the fixtures are SQLite-only apps.
 */
function fixtureDependencies(peers: Record<string, string>): Record<string, string> {
  const ownDependencies = [...Object.keys(libraryPackage.dependencies ?? {}), 'better-sqlite3'].map((name) => [name, lockedVersion(name)]);
  return { ...Object.fromEntries(ownDependencies), ...peers };
}

/** Every file a declaration file imports, from `entry` down, and the bare package names they import. */
function declarationImports(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
      if (!specifier.startsWith('.')) {
        packages.add(specifier);
        continue;
      }
      const base = join(dirname(file), specifier);
      const target = [`${base}.d.ts`, join(base, 'index.d.ts')].find((candidate) => existsSync(candidate));
      if (target) visit(target);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

function writePackageJson(dir: string, dependencies: Record<string, string>): void {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'kanban-consumer-app', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
}

/** Installs the third-party dependencies once, then serves them from the cache for as long as the versions stay the same. */
function cachedNodeModules(dependencies: Record<string, string>, installFlags: string[]): string {
  const key = createHash('sha256')
    .update(`${process.version}\n${JSON.stringify(dependencies)}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(FIXTURE_DEPENDENCY_CACHE, key);
  if (existsSync(dir)) return join(dir, 'node_modules');
  mkdirSync(FIXTURE_DEPENDENCY_CACHE, { recursive: true });
  const partial = mkdtempSync(`${dir}.partial-`);
  writePackageJson(partial, dependencies);
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...installFlags], partial);
  const release = join('node_modules', 'better-sqlite3', 'build', 'Release');
  mkdirSync(join(partial, release), { recursive: true });
  copyFileSync(join(ROOT, release, 'better_sqlite3.node'), join(partial, release, 'better_sqlite3.node'));
  renameSync(partial, dir);
  return join(dir, 'node_modules');
}

/** A fresh app directory holding the fixtures, the cached dependencies and the packed library, installed by npm. */
function installFixtureApp(workDir: string, name: string, tarball: string, peers: Record<string, string>, engineStrict: boolean): string {
  const appDir = join(workDir, name);
  const dependencies = fixtureDependencies(peers);
  const installFlags = engineStrict ? ['--engine-strict'] : [];
  mkdirSync(appDir);
  cpSync(cachedNodeModules(dependencies, installFlags), join(appDir, 'node_modules'), { recursive: true });
  copyFileSync(tarball, join(appDir, TARBALL_NAME));
  copyFileSync(join(FIXTURES, 'consumer-app', 'main.js'), join(appDir, 'consumer.js'));
  copyFileSync(join(FIXTURES, 'http-app', 'main.js'), join(appDir, 'http-app.js'));
  copyFileSync(join(FIXTURES, 'missing-peer', 'main.js'), join(appDir, 'missing-peer.js'));
  writePackageJson(appDir, { ...dependencies, '@tps/kanban': `file:./${TARBALL_NAME}` });
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...installFlags], appDir);
  return appDir;
}

/** Resolves as `promise` does, or rejects naming `what` once `ms` have passed. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The HTTP fixture app as a child process: its JSON stdout lines, its port, its exit. */
class HttpApp {
  readonly lines: Record<string, unknown>[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(appDir: string, dbPath: string) {
    this.child = spawn(process.execPath, ['http-app.js', dbPath], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let pending = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const text = pending + chunk.toString('utf8');
      const complete = text.split('\n');
      pending = complete.pop() as string;
      for (const line of complete) if (line.startsWith('{')) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async url(path: string): Promise<string> {
    const listening = await waitFor(() => this.lines.find((line) => 'listening' in line), { timeoutMs: HTTP_APP_STEP_TIMEOUT_MS, description: `the app listening (stderr: ${this.stderr})` });
    return `http://127.0.0.1:${String(listening.listening)}${path}`;
  }

  async publish(domain: string, payload: unknown): Promise<{ id: string; broker: string }> {
    const response = await fetch(await this.url('/work'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain, payload }) });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; broker: string };
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const response = await fetch(await this.url(path));
    return { status: response.status, text: await response.text() };
  }

  terminate(): void {
    this.child.kill('SIGTERM');
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

describe('the library packed with npm pack and installed into a separate Nest app', () => {
  const rootPackage = readJson<PackageJson>(join(ROOT, 'package.json'));
  let workDir: string;
  let tarball: string;
  const appDirs = new Map<string, string>();
  const appFor = (major: string): string => {
    if (!appDirs.has(major)) {
      const { peers, engineStrict } = NEST_MAJORS.find((m) => m.major === major) as (typeof NEST_MAJORS)[number];
      appDirs.set(major, installFixtureApp(workDir, major.replace(/\W+/g, '-').toLowerCase(), tarball, peers, engineStrict));
    }
    return appDirs.get(major) as string;
  };

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'kanban-pack-'));
    run('npm', ['run', 'pack:lib'], ROOT);
    tarball = join(ROOT, 'dist', 'packages', TARBALL_NAME);
  }, PACK_AND_INSTALL_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('is @tps/kanban at the version of the repository', () => {
    expect(libraryPackage).toEqual(expect.objectContaining({ name: '@tps/kanban', version: rootPackage.version }));
  });

  it('holds the compiled library, its declarations, package.json, README and LICENSE, and nothing else', () => {
    // Act
    const files = run('tar', ['tzf', tarball], ROOT).split('\n').filter(Boolean);

    // Assert
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']));
    expect(readFileSync(join(ROOT, 'libs', 'kanban', 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    const unexpected = files.filter((file) => !/^package\/(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(file));
    expect(unexpected).toEqual([]);
    expect(files.filter((file) => /spec|\.tsbuildinfo$|\.map$/.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('declares repository, homepage and bugs, and a README with no links into the repository checkout', () => {
    // Act
    const readme = readFileSync(join(ROOT, 'libs', 'kanban', 'README.md'), 'utf8');

    // Assert
    expect(libraryPackage).toEqual(
      expect.objectContaining({ repository: expect.objectContaining({ url: expect.any(String) }), homepage: expect.any(String), bugs: expect.objectContaining({ url: expect.any(String) }) }),
    );
    expect(readme.match(/\]\((?!https?:|#)[^)]*\)/g) ?? []).toEqual([]);
  });

  it('lists the broker clients and better-sqlite3 as optional peers, not as dependencies', () => {
    // Assert
    expect(Object.keys(libraryPackage.dependencies ?? {}).filter((name) => OPTIONAL_PEERS.includes(name))).toEqual([]);
    for (const name of OPTIONAL_PEERS) {
      expect(libraryPackage.peerDependencies?.[name]).toEqual(expect.any(String));
      expect(libraryPackage.peerDependenciesMeta?.[name]).toEqual({ optional: true });
    }
  });

  it('has public declarations that never import better-sqlite3, so an app type-checks without @types/better-sqlite3', () => {
    // Act
    const { files, packages } = declarationImports(join(ROOT, 'libs', 'kanban', 'dist', 'index.d.ts'));

    // Assert
    expect(files.length).toBeGreaterThan(10);
    expect(packages).not.toContain('better-sqlite3');
  });

  it('is tested below on every Nest major its peerDependencies advertise', () => {
    // Arrange
    const advertised = (libraryPackage.peerDependencies?.['@nestjs/core'] ?? '').split('||').map((range) => range.trim().replace(/^\^/, '').split('.')[0]);

    // Act
    const tested = NEST_MAJORS.map(({ peers }) => peers['@nestjs/core'].split('.')[0]);

    // Assert
    expect(tested).toEqual(advertised);
  });

  it(
    'runs a @KanbanHandler on the embedded store in a plain CommonJS Nest app that installed the tarball',
    () => {
      // Arrange
      const appDir = appFor('Nest 12');

      // Act
      const stdout = run(process.execPath, ['consumer.js', join(workDir, 'consumer.db')], appDir, CONSUMER_RUN_TIMEOUT_MS);

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
    },
    PACK_AND_INSTALL_TIMEOUT_MS,
  );

  it(
    'stops start-up with MissingDependencyError naming amqplib when an app without it is configured for RabbitMQ',
    () => {
      // Arrange
      const appDir = appFor('Nest 12');

      // Act
      const result = spawnSync(process.execPath, ['missing-peer.js', 'amqp://127.0.0.1:1'], { cwd: appDir, encoding: 'utf8', timeout: CONSUMER_RUN_TIMEOUT_MS });

      // Assert
      expect(existsSync(join(appDir, 'node_modules', 'amqplib'))).toBe(false);
      expect(result.status).toBe(1);
      expect(JSON.parse(result.stdout.trim().split('\n').pop() as string)).toEqual({
        name: 'MissingDependencyError',
        package: 'amqplib',
        message: expect.stringContaining('npm install amqplib'),
      });
    },
    PACK_AND_INSTALL_TIMEOUT_MS,
  );

  // better-sqlite3 compiles against the full Node headers, which the npm registry does not serve,
  // and this repo's binding fits only the Node running the tests: on the other Node majors the
  // fixture runs on NATS, whose client is JavaScript.
  it.each(OTHER_NODE_MAJORS)(
    'runs a @KanbanHandler on NATS in the CommonJS app on Node %s',
    (nodeMajor) => {
      // Arrange
      const nest12 = NEST_MAJORS.find((m) => m.major === 'Nest 12') as (typeof NEST_MAJORS)[number];
      const natsPeers = Object.fromEntries(NATS_CLIENTS.map((name) => [name, lockedVersion(name)]));
      const appDir = installFixtureApp(workDir, `node-${nodeMajor}`, tarball, { ...nest12.peers, ...natsPeers }, false);
      const namespace = testNamespace();
      const env = { ...process.env, KANBAN_FIXTURE_NATS_SERVERS: natsBroker().url, KANBAN_FIXTURE_STREAM_PREFIX: namespace.streamPrefix, KANBAN_FIXTURE_DOMAIN: namespace.domain('receipts') };

      // Act
      const stdout = execFileSync('npx', ['-y', '-p', `node@${nodeMajor}`, 'node', 'consumer.js', join(workDir, 'unused.db')], {
        cwd: appDir,
        env,
        encoding: 'utf8',
        timeout: COMMAND_TIMEOUT_MS,
        stdio: ['ignore', 'pipe', 'pipe'],
      });

      // Assert
      const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { node: string; receipt: { id: string; broker: string }; handled: { id: string; attempts: number } };
      expect(result.node).toMatch(new RegExp(`^v${nodeMajor}\\.`));
      expect(result.receipt).toEqual(expect.objectContaining({ broker: 'nats' }));
      expect(result.handled).toEqual(expect.objectContaining({ id: result.receipt.id, attempts: 1 }));
    },
    PACK_AND_INSTALL_TIMEOUT_MS,
  );

  describe.each(NEST_MAJORS)('an HTTP app on $major with the installed tarball', ({ major, peers, degradedHealth }) => {
    let appDir: string;
    let dbPath: string;
    let app: HttpApp;

    beforeAll(() => {
      appDir = appFor(major);
      dbPath = join(workDir, `${major.replace(/\W+/g, '-')}.db`);
      app = new HttpApp(appDir, dbPath);
    }, PACK_AND_INSTALL_TIMEOUT_MS);

    afterAll(() => app?.kill());

    it(`installed ${major} itself, beside the library`, () => {
      expect(readJson<PackageJson>(join(appDir, 'node_modules', '@nestjs', 'core', 'package.json')).version).toBe(peers['@nestjs/core']);
      expect(readJson<PackageJson>(join(appDir, 'node_modules', '@nestjs', 'terminus', 'package.json')).version).toBe(peers['@nestjs/terminus']);
      expect(readJson<PackageJson>(join(appDir, 'node_modules', '@tps', 'kanban', 'package.json')).version).toBe(libraryPackage.version);
    });

    it('hands a published item to its @KanbanHandler once', async () => {
      // Act
      const receipt = await app.publish('receipts', { orderId: 7 });

      // Assert
      const handled = await waitFor(
        async () => {
          const items = JSON.parse((await app.get('/handled')).text) as unknown[];
          return items.length > 0 ? items : undefined;
        },
        { timeoutMs: HTTP_APP_STEP_TIMEOUT_MS, description: 'the item handled' },
      );
      expect(handled).toEqual([{ id: receipt.id, payload: { orderId: 7 }, attempts: 1 }]);
    });

    it('answers /health 200 with every indicator up', async () => {
      // Act
      const response = await app.get('/health');

      // Assert
      expect(response.status).toBe(200);
      const body = JSON.parse(response.text) as HealthBody;
      expect(body.status).toBe('ok');
      expect(Object.values(body.details).map((indicator) => indicator.status)).toEqual(['up', 'up', 'up']);
    });

    it('answers /health 200 with the queue degraded while a backlog is above the high watermark', async () => {
      // Arrange
      for (let i = 0; i < 3; i++) await app.publish('backlog', i);
      await waitFor(async () => (await app.get('/metrics')).text.includes('kanban_queue_depth{priority="high",domain="backlog",broker="embedded"} 3'), {
        timeoutMs: HTTP_APP_STEP_TIMEOUT_MS,
        description: 'the coordinator sampling the backlog',
      });

      // Act
      const response = await app.get('/health');

      // Assert
      expect(response.status).toBe(200);
      const body = JSON.parse(response.text) as HealthBody;
      expect(body.status).toBe(degradedHealth.status);
      expect(body.details.queue).toEqual(expect.objectContaining({ ...degradedHealth.queue, overHighWatermark: ['high.backlog'] }));
      expect(body.details.broker.status).toBe('up');
    });

    it("answers /metrics with kanban's counters in the Prometheus text format", async () => {
      // Act
      const response = await app.get('/metrics');

      // Assert
      expect(response.status).toBe(200);
      expect(response.text).toContain('kanban_published_total{priority="high",domain="receipts",broker="embedded"} 1');
      expect(response.text).toContain('kanban_acked_total{priority="high",domain="receipts",broker="embedded"} 1');
      expect(response.text).toContain('kanban_published_total{priority="high",domain="backlog",broker="embedded"} 3');
    });

    it('drains on SIGTERM: the item in flight finishes and is acked, the waiting ones stay queued', async () => {
      // Arrange
      const slow = await app.publish('slow', { holdMs: SLOW_ITEM_HOLD_MS });
      await waitFor(() => app.lines.some((line) => line.started === slow.id), { timeoutMs: HTTP_APP_STEP_TIMEOUT_MS, description: 'the slow item started' });

      // Act
      app.terminate();
      const exit = await within(HTTP_APP_STEP_TIMEOUT_MS, app.exited, 'the app exiting after SIGTERM');

      // Assert
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(app.lines.some((line) => line.finished === slow.id)).toBe(true);
      const depth = JSON.parse(run(process.execPath, ['http-app.js', dbPath, 'depth'], appDir, CONSUMER_RUN_TIMEOUT_MS).trim().split('\n').pop() as string) as {
        depth: { domain: string; ready: number; inFlight: number }[];
      };
      expect(depth.depth).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ domain: 'slow', ready: 0, inFlight: 0 }),
          expect.objectContaining({ domain: 'receipts', ready: 0, inFlight: 0 }),
          expect.objectContaining({ domain: 'backlog', ready: 3, inFlight: 0 }),
        ]),
      );
    });
  });
});
