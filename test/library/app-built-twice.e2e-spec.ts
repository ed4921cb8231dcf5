import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KANBAN_METRICS_REGISTRY, KanbanModule, KanbanQueue } from '@tps/kanban';
import { Registry } from 'prom-client';

const dir = mkdtempSync(join(tmpdir(), 'kanban-built-twice-'));
const userRegistry = new Registry();

@Module({ imports: [KanbanModule.forRoot({ embedded: { path: join(dir, 'kanban.db') }, autoscale: false })] })
class AppModule {}

/** One store file admits one app at a time (StoreLockedError), so apps side by side each keep a private in-memory store. */
@Module({ imports: [KanbanModule.forRoot({ embedded: { path: ':memory:' }, autoscale: false })] })
class InMemoryAppModule {}

@Module({ imports: [KanbanModule.forRoot({ embedded: { path: join(dir, 'user-registry.db') }, autoscale: false, registry: userRegistry })] })
class UserRegistryAppModule {}

const publishOne = (app: INestApplicationContext) => app.get(KanbanQueue).publish({ priority: 'normal', domain: 'twice', payload: 1, deadlineMs: 60_000 });

describe('one module built into an app context more than once in a process', () => {
  const apps: INestApplicationContext[] = [];
  const build = async (module: object): Promise<INestApplicationContext> => {
    const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a second time after the first closed, with metrics of its own (a Jest beforeEach)', async () => {
    // Arrange
    const first = await build(AppModule);
    await publishOne(first);
    await first.close();

    // Act
    const second = await build(AppModule);

    // Assert
    const registry = second.get<Registry>(KANBAN_METRICS_REGISTRY);
    expect(registry).not.toBe(first.get<Registry>(KANBAN_METRICS_REGISTRY));
    expect(await registry.getSingleMetricAsString('kanban_published_total')).not.toContain('twice');
  });

  it('builds two apps side by side, each counting only its own publishes', async () => {
    // Arrange
    const first = await build(InMemoryAppModule);
    const second = await build(InMemoryAppModule);

    // Act
    await publishOne(first);

    // Assert
    expect(await first.get<Registry>(KANBAN_METRICS_REGISTRY).getSingleMetricAsString('kanban_published_total')).toContain(
      'kanban_published_total{priority="normal",domain="twice",broker="embedded"} 1',
    );
    expect(await second.get<Registry>(KANBAN_METRICS_REGISTRY).getSingleMetricAsString('kanban_published_total')).not.toContain('twice');
  });

  it('registers its metrics in the registry the user passed', async () => {
    // Arrange
    const app = await build(UserRegistryAppModule);

    // Act
    await publishOne(app);

    // Assert
    expect(app.get(KANBAN_METRICS_REGISTRY)).toBe(userRegistry);
    expect(await userRegistry.getSingleMetricAsString('kanban_published_total')).toContain('domain="twice",broker="embedded"} 1');
  });
});
