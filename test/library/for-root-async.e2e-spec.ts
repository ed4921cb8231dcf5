import { Inject, Injectable, Logger, Module, type DynamicModule } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KanbanConfigError, KanbanHandler, KanbanModule, KanbanQueue, KanbanWorkerPool, type KanbanModuleOptions } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace } from './support/kanban-test-app';

const INVOICES = namespace.domain('invoices');
const ARCHIVE = namespace.domain('archive');
/** Below the default of 10, so a worker holding more than this shows the factory's value was not used. */
const CONFIGURED_PULL_SIZE = 2;
const ITEMS = 5;
const STEP_TIMEOUT_MS = 10_000;

const CONFIG_VALUES = Symbol('CONFIG_VALUES');

/** A ConfigService-like provider: named string settings, as an app reads them from its environment. */
@Injectable()
class AppConfig {
  readonly reads: string[] = [];

  constructor(@Inject(CONFIG_VALUES) private readonly values: Record<string, string>) {}

  get(name: string): string {
    this.reads.push(name);
    const value = this.values[name];
    if (value === undefined) throw new Error(`missing setting ${name}`);
    return value;
  }
}

@Module({})
class AppConfigModule {
  static register(values: Record<string, string>): DynamicModule {
    return { module: AppConfigModule, providers: [{ provide: CONFIG_VALUES, useValue: values }, AppConfig], exports: [AppConfig] };
  }
}

/** The options an app would build from its config, asynchronously. */
async function kanbanOptionsFrom(config: AppConfig): Promise<KanbanModuleOptions> {
  return {
    embedded: { path: config.get('KANBAN_EMBEDDED_PATH') },
    workerPullSize: Number(config.get('KANBAN_WORKER_PULL_SIZE')),
    minWorkers: 1,
    maxWorkers: 1,
    startWorkers: false,
    autoscale: false,
    coordinatorCheckIntervalMs: 60_000,
  };
}

/** Holds every item until released, so what a worker pulled stays in flight. */
let release: () => void = () => undefined;
let gate = Promise.resolve();
let started = 0;
let finished = 0;

@Injectable()
class InvoiceConsumer {
  @KanbanHandler({ priority: 'normal', domain: INVOICES })
  async handle(@Payload() _payload: unknown) {
    started++;
    await gate;
    finished++;
  }
}

async function compileAsync(values: Record<string, string>) {
  return Test.createTestingModule({
    imports: [KanbanModule.forRootAsync({ imports: [AppConfigModule.register(values)], inject: [AppConfig], useFactory: kanbanOptionsFrom })],
    providers: [InvoiceConsumer],
  }).compile();
}

describe('KanbanModule.forRootAsync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-async-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds its options with an injected config provider, and the store path and pull size it gives take effect', async () => {
    // Arrange
    const path = join(dir, 'from-config.db');
    gate = new Promise<void>((resolve) => (release = resolve));
    started = 0;
    finished = 0;
    const module = await compileAsync({ KANBAN_EMBEDDED_PATH: path, KANBAN_WORKER_PULL_SIZE: String(CONFIGURED_PULL_SIZE) });
    await module.init();
    const queue = module.get(KanbanQueue);
    let heldByWorker: { ready: number; inFlight: number } | undefined;
    try {
      // Act
      for (let i = 0; i < ITEMS; i++) await queue.publish({ priority: 'normal', domain: INVOICES, payload: i, deadline: inFuture() });
      await queue.publish({ priority: 'normal', domain: ARCHIVE, payload: 'kept', deadline: inFuture() });
      module.get(KanbanWorkerPool).start(INVOICES, 'normal');
      await waitFor(() => started === 1, { timeoutMs: STEP_TIMEOUT_MS, description: 'the first invoice started' });
      heldByWorker = (await queue.depth()).find((q) => q.domain === INVOICES);
      release();
      await waitFor(() => finished === ITEMS, { timeoutMs: STEP_TIMEOUT_MS, description: 'every invoice handled' });
    } finally {
      release();
      await module.close();
    }
    const reopened = await createKanbanTestApp({ dbPath: path, options: { startWorkers: false, coordinatorCheckIntervalMs: 60_000 } });
    const kept = await reopened.queue.pull({ domain: ARCHIVE, max: 10, waitMs: 1_000 }).finally(() => reopened.close());

    // Assert
    expect(module.get(AppConfig, { strict: false }).reads).toEqual(['KANBAN_EMBEDDED_PATH', 'KANBAN_WORKER_PULL_SIZE']);
    expect(heldByWorker).toMatchObject({ inFlight: CONFIGURED_PULL_SIZE, ready: ITEMS - CONFIGURED_PULL_SIZE });
    expect(existsSync(path)).toBe(true);
    expect(kept.map((delivery) => delivery.item.payload)).toEqual(['kept']);
  });

  it('validates the options the factory returns at start-up, naming the bad one', async () => {
    // Arrange
    Logger.overrideLogger(false);

    // Act
    const refused = await compileAsync({ KANBAN_EMBEDDED_PATH: join(dir, 'never.db'), KANBAN_WORKER_PULL_SIZE: '0' })
      .then((module) => module.init())
      .then(
        () => undefined,
        (error: unknown) => error,
      )
      .finally(() => Logger.overrideLogger(['warn', 'error']));

    // Assert
    expect(refused).toBeInstanceOf(KanbanConfigError);
    expect((refused as KanbanConfigError).message).toContain('workerPullSize');
  });
});
