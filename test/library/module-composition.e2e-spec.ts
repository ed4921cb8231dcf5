import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, type ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  CanaryTracker,
  KanbanCoordinator,
  KanbanCoreModule,
  KanbanHandler,
  KanbanQueue,
  KanbanScheduler,
  KanbanWorkerPool,
  CoordinatorModule,
  QueueModule,
  SchedulerModule,
  WorkerModule,
  type KanbanContext,
} from '@tps/kanban';
import { waitFor } from '../harness';

@Injectable()
class ReceiptsHandler {
  readonly handled: string[] = [];

  @KanbanHandler({ domain: 'receipts', priority: 'high' })
  handle(_payload: unknown, context: KanbanContext): void {
    this.handled.push(context.getItem().id);
  }
}

describe('an app composes the kanban modules it needs', () => {
  let dir: string;
  let module: TestingModule | undefined;

  const compose = async (metadata: ModuleMetadata): Promise<TestingModule> => {
    module = await Test.createTestingModule(metadata).compile();
    await module.init();
    return module;
  };
  const core = () => KanbanCoreModule.forRoot({ embedded: { path: join(dir, 'kanban.db') } });

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kanban-compose-'))));
  afterEach(async () => {
    await module?.close();
    module = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a producer-only app (core + QueueModule) publishes and runs no worker pool, coordinator or scheduler', async () => {
    // Arrange
    const app = await compose({ imports: [core(), QueueModule], providers: [ReceiptsHandler] });
    const queue = app.get(KanbanQueue);

    // Act
    const receipt = await queue.publish({ priority: 'high', domain: 'receipts', payload: { orderId: 1 }, deadline: Date.now() + 60_000 });

    // Assert
    expect(receipt).toEqual(expect.objectContaining({ broker: 'embedded' }));
    expect(() => app.get(KanbanWorkerPool)).toThrow();
    expect(() => app.get(KanbanCoordinator)).toThrow();
    expect(() => app.get(KanbanScheduler)).toThrow();
    expect(app.get(ReceiptsHandler).handled).toEqual([]);
    expect(await queue.depth()).toEqual([expect.objectContaining({ priority: 'high', domain: 'receipts', ready: 1, inFlight: 0 })]);
  });

  it('an app of core + QueueModule + WorkerModule consumes with its handlers and has no coordinator or scheduler', async () => {
    // Arrange
    const app = await compose({ imports: [core(), QueueModule, WorkerModule], providers: [ReceiptsHandler] });

    // Act
    const receipt = await app.get(KanbanQueue).publish({ priority: 'high', domain: 'receipts', payload: {}, deadline: Date.now() + 60_000 });

    // Assert
    await waitFor(() => app.get(ReceiptsHandler).handled.length > 0 || undefined, { timeoutMs: 10_000, description: 'the item handled' });
    expect(app.get(ReceiptsHandler).handled).toEqual([receipt.id]);
    expect(app.get(KanbanWorkerPool).currentWorkers()).toBe(1);
    expect(() => app.get(KanbanCoordinator)).toThrow();
    expect(() => app.get(KanbanScheduler)).toThrow();
  });

  it('a coordinator app needs no scheduler: its health reports canaries from CanaryModule', async () => {
    // Arrange
    const app = await compose({ imports: [core(), CoordinatorModule] });

    // Act
    const health = app.get(KanbanCoordinator).getHealth();

    // Assert
    expect(health).toEqual(expect.objectContaining({ canaries: [], queue_draining: false }));
    expect(app.get(CanaryTracker).results()).toEqual([]);
    expect(() => app.get(KanbanScheduler)).toThrow();
  });

  it('a scheduler app publishes scheduled work without workers or coordinator', async () => {
    // Arrange
    const app = await compose({ imports: [core(), SchedulerModule] });

    // Act
    await app.get(KanbanScheduler).scheduleCanary('receipts', { probe: true });

    // Assert
    expect(app.get(CanaryTracker).results()).toEqual([expect.objectContaining({ domain: 'receipts', status: 'pending' })]);
    expect(() => app.get(KanbanWorkerPool)).toThrow();
    expect(() => app.get(KanbanCoordinator)).toThrow();
  });
});
