import type { KanbanModuleOptions } from '../../../libs/kanban/src';
import type { FailoverTransport } from '../../../libs/kanban/src/transports/failover';
import { natsBroker, rabbitmqBroker, type TestNamespace } from '../../harness';
import { createKanbanTestApp, type KanbanTestApp } from '../../library/support/kanban-test-app';
import { ledgerConsumer, type OnProcessed } from './ledger-consumer';

/**
 * Short timeouts so that what a fault strands comes back within a test: a lease of 4 s (process
 * timeout + grace), a stall limit of 20 s, a coordinator round every second.
 */
export const CHAOS_MODULE_OPTIONS: KanbanModuleOptions = {
  workerPullSize: 10,
  minWorkers: 4,
  maxWorkers: 4,
  autoscale: false,
  workerProcessTimeoutMs: 2_000,
  deadLetterTimeoutMs: 20_000,
  coordinatorCheckIntervalMs: 1_000,
  maxAttempts: 5,
  retryBackoffMs: [100],
};

/** NATS and RabbitMQ of the test run under the namespace's prefixes: the failover transport. */
export function failoverOptions(namespace: TestNamespace): Pick<KanbanModuleOptions, 'nats' | 'rabbitmq'> {
  return {
    nats: { servers: [natsBroker().url], streamPrefix: namespace.streamPrefix },
    rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix },
  };
}

export interface ChaosApp extends KanbanTestApp {
  failover: FailoverTransport;
}

/** KanbanModule on the failover transport (what users run) with a ledger consumer on (normal, domain). */
export async function createChaosApp(namespace: TestNamespace, domain: string, onProcessed: OnProcessed, options: KanbanModuleOptions = {}): Promise<ChaosApp> {
  const app = await createKanbanTestApp({
    providers: [ledgerConsumer(domain, onProcessed)],
    options: { ...CHAOS_MODULE_OPTIONS, ...failoverOptions(namespace), ...options },
  });
  return { ...app, failover: app.transport as FailoverTransport };
}
