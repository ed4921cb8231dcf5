import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as globalRegistry, Registry } from 'prom-client';
import * as kanban from '@tps/kanban';
import { KANBAN_OPTIONS, KanbanQueue, KanbanScheduler, type KanbanResolvedOptions } from '@tps/kanban';
import { AppModule as ConfiguredAppModule } from '../../examples/config-async.module';
import { HealthController, HealthModule } from '../../examples/health.controller';
import { MetricsAppModule, MetricsController } from '../../examples/own-metrics-registry';
import { ReportsModule, scheduleHeartbeat } from '../../examples/schedules';
// The README's testing example is a Jest suite: importing it here runs it.
import '../../examples/testing-module.e2e-example';

const ROOT = join(__dirname, '..', '..');
const READMES = ['README.md', 'libs/kanban/README.md'];
const EXAMPLES_DIR = join(ROOT, 'examples');
const LIBRARY_README = readFileSync(join(ROOT, 'libs/kanban/README.md'), 'utf8');

/** The TypeScript and JavaScript blocks of a Markdown file, as written. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript|js|mjs)\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

const exampleFiles = readdirSync(EXAMPLES_DIR).filter((name) => /\.(ts|mjs)$/.test(name));
const exampleText = new Map(exampleFiles.map((name) => [name, readFileSync(join(EXAMPLES_DIR, name), 'utf8')]));

describe('the READMEs show the example files as they are', () => {
  it.each(READMES)('every whole-file code block of %s is an example file, byte for byte', (readme) => {
    // A block that starts with its imports is a program a reader copies; shorter snippets show one call.
    const blocks = codeBlocks(readFileSync(join(ROOT, readme), 'utf8')).filter((block) => block.startsWith('import '));

    const unknown = blocks.filter((block) => ![...exampleText.values()].includes(block));

    expect(blocks.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  });

  it('the package README shows every example file', () => {
    const blocks = codeBlocks(LIBRARY_README);

    const missing = exampleFiles.filter((name) => !blocks.includes(exampleText.get(name) as string));

    expect(missing).toEqual([]);
  });

  it('the package README links nothing outside the package', () => {
    expect(LIBRARY_README).not.toMatch(/\]\((?!https?:\/\/|#)[^)]*\)/);
  });

  it('the ES module example imports names the package exports', () => {
    const source = exampleText.get('esm-import.mjs') as string;
    const names = /import \{([^}]+)\} from '@tps\/kanban'/
      .exec(source)?.[1]
      .split(',')
      .map((name) => name.trim());

    expect(names?.length).toBeGreaterThan(0);
    for (const name of names ?? []) expect(typeof (kanban as Record<string, unknown>)[name]).toBe('function');
  });
});

describe('the README examples run on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-examples-'));
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(metadata: Parameters<typeof Test.createTestingModule>[0]): Promise<TestingModule> {
    moduleRef = await Test.createTestingModule(metadata).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it('the health controller reports broker, queue and workers up', async () => {
    const app = await start({ imports: [kanban.KanbanModule.forRoot({ embedded: { path: join(dir, 'health.db') } }), HealthModule] });

    const result = await app.get(HealthController).check();

    expect(result.status).toBe('ok');
    expect(Object.keys(result.info ?? {}).sort()).toEqual(['broker', 'queue', 'workers']);
  });

  it("kanban's metrics land in the registry passed to forRoot, not in prom-client's global one", async () => {
    const registry = new Registry();
    const app = await start({ imports: [MetricsAppModule.register(registry, join(dir, 'metrics.db'))] });
    await app.get(KanbanQueue).publish({ priority: 'normal', domain: 'docs', payload: {}, deadlineMs: 30_000 });

    const text = await app.get(MetricsController).metrics();

    expect(text).toMatch(/^kanban_published_total\{[^}]*domain="docs"[^}]*\} 1$/m);
    expect(await globalRegistry.metrics()).not.toContain('kanban_published_total');
  });

  it('forRootAsync takes its options from ConfigService', async () => {
    const saved = { ...process.env };
    const path = join(dir, 'configured.db');
    delete process.env.KANBAN_NATS_SERVERS;
    Object.assign(process.env, { KANBAN_EMBEDDED_PATH: path, KANBAN_WORKER_PULL_SIZE: '4', KANBAN_MAX_ATTEMPTS: '5' });
    try {
      const app = await start({ imports: [ConfiguredAppModule] });

      const options = app.get<KanbanResolvedOptions>(KANBAN_OPTIONS);

      expect(options).toMatchObject({ embedded: { path }, workerPullSize: 4, maxAttempts: 5 });
    } finally {
      process.env = saved;
    }
  });

  it('declared and run-time schedules are stored and still there after a restart', async () => {
    const path = join(dir, 'schedules.db');
    const first = await start({ imports: [ReportsModule.register(path)] });
    await scheduleHeartbeat(first.get(KanbanScheduler));
    await first.close();

    const second = await start({ imports: [ReportsModule.register(path)] });

    expect(
      second
        .get(KanbanScheduler)
        .list()
        .map((schedule) => schedule.jobId)
        .sort(),
    ).toEqual(['heartbeat', 'nightly-report']);
  });
});
