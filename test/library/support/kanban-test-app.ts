import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  KanbanCoordinator,
  KanbanMetrics,
  KanbanModule,
  KanbanQueue,
  KanbanScheduler,
  KanbanWorkerPool,
  type KanbanModuleOptions,
} from '@tps/kanban';

export interface KanbanTestApp {
  module: TestingModule;
  queue: KanbanQueue;
  pool: KanbanWorkerPool;
  coordinator: KanbanCoordinator;
  scheduler: KanbanScheduler;
  metrics: KanbanMetrics;
  /** The embedded store's file. */
  dbPath: string;
  /** Log lines written while the app ran, `LEVEL context: message`. */
  logs: string[];
  close(): Promise<void>;
}

export interface KanbanTestAppOptions extends Pick<ModuleMetadata, 'providers' | 'controllers' | 'imports'> {
  options?: KanbanModuleOptions;
  /** Reuse an existing store file (restart scenarios). */
  dbPath?: string;
}

/** Keeps every log line for assertions (ALERT lines, switch lines) and stays quiet otherwise. */
class CapturingLogger implements LoggerService {
  constructor(private readonly lines: string[]) {}
  log(message: unknown, context?: string) { this.lines.push(`LOG ${context ?? ''}: ${String(message)}`); }
  error(message: unknown, ...rest: unknown[]) { this.lines.push(`ERROR ${String(rest[rest.length - 1] ?? '')}: ${String(message)}`); }
  warn(message: unknown, context?: string) { this.lines.push(`WARN ${context ?? ''}: ${String(message)}`); }
  debug() {}
  verbose() {}
}

/** A Nest application context with KanbanModule on a fresh embedded store, lifecycle hooks run. */
export async function createKanbanTestApp(setup: KanbanTestAppOptions = {}): Promise<KanbanTestApp> {
  const dir = setup.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'kanban-lib-'));
  const dbPath = setup.dbPath ?? join(dir as string, 'kanban.db');
  const logs: string[] = [];
  const module = await Test.createTestingModule({
    imports: [KanbanModule.forRoot({ embedded: { path: dbPath }, ...setup.options }), ...(setup.imports ?? [])],
    providers: setup.providers ?? [],
    controllers: setup.controllers ?? [],
  })
    .setLogger(new CapturingLogger(logs))
    .compile();
  Logger.overrideLogger(new CapturingLogger(logs));
  await module.init();
  let closed = false;
  return {
    module,
    queue: module.get(KanbanQueue),
    pool: module.get(KanbanWorkerPool),
    coordinator: module.get(KanbanCoordinator),
    scheduler: module.get(KanbanScheduler),
    metrics: module.get(KanbanMetrics),
    dbPath,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      await module.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const inFuture = (ms = 60_000): number => Date.now() + ms;
