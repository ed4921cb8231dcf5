import { join } from 'node:path';
import { Injectable, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { KanbanEvents, KanbanHandler, KanbanModule, KanbanQueue, KanbanWorkerPool, resolveKanbanOptions, type KanbanModuleOptions, type Priority } from '@tps/kanban';
import type { BenchItem, ConsumerHooks, OpenContext, OpenSystem } from './queue-system';

/** How a kanban system is run: items per pull and workers per handler. */
export interface KanbanTuning {
  workerPullSize: number;
  workers: number;
}

const DEFAULTS = resolveKanbanOptions({});

/**
 * The library's defaults, with the worker count autoscaling reaches under a bench backlog
 * (maxWorkers) fixed from the start, so a run does not depend on when the coordinator ticks.
 */
export const KANBAN_DEFAULT_TUNING: KanbanTuning = { workerPullSize: DEFAULTS.workerPullSize, workers: DEFAULTS.maxWorkers };
/** Larger pulls: fewer round trips per item. */
export const KANBAN_TUNED_TUNING: KanbanTuning = { workerPullSize: 100, workers: DEFAULTS.maxWorkers };

/** Publishes go to one priority, so every system works one queue and kanban's handler pulls one stream. */
export const BENCH_PRIORITY: Priority = 'normal';
/** Items live long enough to survive the slowest run's backlog. */
export const BENCH_DEADLINE_MS = 3_600_000;
/** Scale runs hold up to a million items in one queue; the default limit (100,000) would refuse them. */
const BENCH_MAX_QUEUE_DEPTH = 2_000_000;

/** Where the handler of the app currently running reports to. */
interface HookSink {
  hooks?: ConsumerHooks;
}

/** A Nest app the way users run kanban: KanbanModule.forRoot and a provider with a no-op @KanbanHandler. */
function benchAppModule(options: KanbanModuleOptions, domain: string, sink: HookSink): DynamicModule {
  @Injectable()
  class BenchConsumer {
    @KanbanHandler({ priority: BENCH_PRIORITY, domain })
    handle(@Payload() item: BenchItem): void {
      sink.hooks?.onStart(item);
    }
  }

  @Module({})
  class BenchKanbanApp {}

  return { module: BenchKanbanApp, imports: [KanbanModule.forRoot(options)], providers: [BenchConsumer] };
}

export interface OpenKanban extends OpenSystem {
  app: INestApplicationContext;
  queue: KanbanQueue;
  domain: string;
}

/**
 * Starts a kanban app on the given broker options. Workers start only with `startConsumers`, so
 * publish-only runs measure publishing alone.
 */
export async function openKanbanApp(context: OpenContext, brokerOptions: KanbanModuleOptions, tuning: KanbanTuning): Promise<OpenKanban> {
  const domain = `bench-${context.tag}`;
  const sink: HookSink = {};
  const options: KanbanModuleOptions = {
    embedded: { path: join(context.tempDir, `${context.tag}.db`) },
    ...brokerOptions,
    workerPullSize: tuning.workerPullSize,
    minWorkers: 0,
    maxWorkers: Math.max(DEFAULTS.maxWorkers, tuning.workers),
    autoscale: false,
    startWorkers: false,
    maxQueueDepth: BENCH_MAX_QUEUE_DEPTH,
  };
  const app = await NestFactory.createApplicationContext(benchAppModule(options, domain, sink), { logger: ['error'] });
  const queue = app.get(KanbanQueue);
  const events = app.get(KanbanEvents);
  let acks: { unsubscribe(): void } | undefined;
  return {
    app,
    queue,
    domain,
    publish: async (item, group) => {
      await queue.publish({ priority: BENCH_PRIORITY, domain, payload: item, deadlineMs: BENCH_DEADLINE_MS, group });
    },
    startConsumers: async (hooks) => {
      sink.hooks = hooks;
      acks = events.events$.subscribe((event) => {
        if (event.type === 'acked') hooks.onAcked();
      });
      app.get(KanbanWorkerPool).start(domain, BENCH_PRIORITY, tuning.workers);
    },
    close: async () => {
      await app.close();
      acks?.unsubscribe();
    },
  };
}

/** The kanban app behind an opened kanban system, for scenarios that use the library's own API. */
export function openedKanban(open: OpenSystem): OpenKanban {
  if (!('queue' in open) || !('app' in open)) throw new Error('not a kanban system');
  return open as OpenKanban;
}
