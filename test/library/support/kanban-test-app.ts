import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { KANBAN_TRANSPORT, KanbanTransport, KanbanCoordinator, KanbanMetrics, KanbanModule, KanbanQueue, KanbanScheduler, KanbanWorkerPool, type KanbanModuleOptions } from '@tps/kanban';
import { natsBroker, rabbitmqBroker, testNamespace, type TestNamespace } from '../../harness';

/** Every library behaviour runs on each of these. */
export const TRANSPORTS = ['embedded', 'nats', 'rabbitmq'] as const;
export type TransportKind = (typeof TRANSPORTS)[number];

/** One namespace per test file: NATS subjects and RabbitMQ queues are shared by every suite of the run. */
export const namespace: TestNamespace = testNamespace();

function brokerOptions(kind: TransportKind, dbPath: string): KanbanModuleOptions {
  switch (kind) {
    case 'nats':
      return { nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix }, embedded: { path: dbPath } };
    case 'rabbitmq':
      return { rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix }, embedded: { path: dbPath } };
    default:
      return { embedded: { path: dbPath } };
  }
}

export interface KanbanTestApp {
  kind: TransportKind;
  module: TestingModule;
  transport: KanbanTransport;
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
  /** @default 'embedded' */
  transport?: TransportKind;
  options?: KanbanModuleOptions;
  /** Reuse an existing store file (restart scenarios). */
  dbPath?: string;
}

/** Keeps every log line for assertions (ALERT lines, switch lines) and stays quiet otherwise. */
class CapturingLogger implements LoggerService {
  constructor(private readonly lines: string[]) {}
  log(message: unknown, context?: string) {
    this.lines.push(`LOG ${context ?? ''}: ${String(message)}`);
  }
  error(message: unknown, ...rest: unknown[]) {
    const context = rest[rest.length - 1];
    this.lines.push(`ERROR ${typeof context === 'string' ? context : ''}: ${String(message)}`);
  }
  warn(message: unknown, context?: string) {
    this.lines.push(`WARN ${context ?? ''}: ${String(message)}`);
  }
  debug() {}
  verbose() {}
}

/** A Nest application context with KanbanModule on the given transport (a fresh embedded store by default), lifecycle hooks run. */
export async function createKanbanTestApp(setup: KanbanTestAppOptions = {}): Promise<KanbanTestApp> {
  const dir = setup.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'kanban-lib-'));
  const dbPath = setup.dbPath ?? join(dir as string, 'kanban.db');
  const logs: string[] = [];
  const kind = setup.transport ?? 'embedded';
  const module = await Test.createTestingModule({
    imports: [KanbanModule.forRoot({ ...brokerOptions(kind, dbPath), ...setup.options }), ...(setup.imports ?? [])],
    providers: setup.providers ?? [],
    controllers: setup.controllers ?? [],
  })
    .setLogger(new CapturingLogger(logs))
    .compile()
    .catch((error: unknown) => {
      // Refused while building the providers (bad handler options): nothing connected, only the store's directory to remove.
      if (dir) rmSync(dir, { recursive: true, force: true });
      throw error;
    });
  Logger.overrideLogger(new CapturingLogger(logs));
  try {
    await module.init();
  } catch (error) {
    // A start-up refused after the transport connected (a bad declared schedule) leaves its timers running unless closed.
    await module.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    kind,
    module,
    transport: module.get<KanbanTransport>(KANBAN_TRANSPORT),
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
