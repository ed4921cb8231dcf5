import type { KanbanModuleOptions } from '../../../libs/kanban/src';
import type { FailoverTransport } from '../../../libs/kanban/src/transports/failover';
import { natsBroker, rabbitmqBroker, type TestNamespace } from '../../harness';
import { createKanbanTestApp, type KanbanTestApp } from '../../library/support/kanban-test-app';
import { CHAOS_MODULE_OPTIONS } from './chaos-options';
import { ledgerConsumer, type OnProcessed } from './ledger-consumer';

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
