import { performance } from 'node:perf_hooks';
import { KanbanEvents, type KanbanModuleOptions, type QueueDepth } from '../../../libs/kanban/src';
import { natsBroker, type TestNamespace } from '../../harness';
import { createKanbanTestApp, type KanbanTestApp } from '../../library/support/kanban-test-app';
import { CHAOS_MODULE_OPTIONS } from '../../failover/support/chaos-options';
import { ledgerConsumer, type OnProcessed } from '../../failover/support/ledger-consumer';
import { AckWindow } from './ack-window';

export interface NatsChaosApp extends KanbanTestApp {
  /** When acks of the app's domain landed: what a fault may have caught in flight. */
  acks: AckWindow;
}

/**
 * KanbanModule on NATS alone (the run's nats-server, the namespace's stream prefix) with a ledger
 * consumer on (normal, domain) and the chaos options (4 s leases, 4 workers of 10).
 */
export async function createNatsChaosApp(namespace: TestNamespace, domain: string, onProcessed: OnProcessed, options: KanbanModuleOptions = {}): Promise<NatsChaosApp> {
  const { nats, ...rest } = options;
  const app = await createKanbanTestApp({
    transport: 'nats',
    providers: [ledgerConsumer(domain, onProcessed)],
    options: { ...CHAOS_MODULE_OPTIONS, ...rest, nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix, ...nats } },
  });
  const acks = new AckWindow(app.module.get(KanbanEvents), domain);
  return {
    ...app,
    acks,
    async close() {
      acks.close();
      await app.close();
    },
  };
}

/** What a fault caught in flight: deliveries the broker had out (ack pending, read just before) and acks that landed just before it. */
export interface FaultSnapshot {
  at: number;
  delivered: number;
  ackedJustBefore: number;
  inFlight: number;
}

/**
 * Reads the domain's in-flight count from the broker, then runs `fault` (kill -9, SIGSTOP) and
 * returns what was in flight at that moment.
 */
export async function faultWithSnapshot(app: { queue: { depth(): Promise<QueueDepth[]> }; acks: AckWindow }, domain: string, fault: () => Promise<void>): Promise<FaultSnapshot> {
  const rows = await app.queue.depth().catch((): QueueDepth[] => []);
  const delivered = rows.filter((row) => row.domain === domain).reduce((sum, row) => sum + row.inFlight, 0);
  const at = performance.now();
  await fault();
  const ackedJustBefore = app.acks.ackedJustBefore(at);
  return { at, delivered, ackedJustBefore, inFlight: delivered + ackedJustBefore };
}
