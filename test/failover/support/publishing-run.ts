import { KanbanEvents, type KanbanModuleOptions } from '../../../libs/kanban/src';
import { testNamespace, waitFor, type TestNamespace } from '../../harness';
import { AckWindow } from '../../chaos/support/ack-window';
import { faultWithSnapshot, type FaultSnapshot } from '../../chaos/support/nats-app';
import { Ledger } from '../../ledger/ledger';
import { createChaosApp, type ChaosApp } from './chaos-app';
import { purgeNamespace } from './purge-namespace';
import { SteadyPublisher } from './steady-publisher';

/** Longest wait, by default, for the publisher to reach the count at which the next fault strikes. */
const PHASE_TIMEOUT_MS = 30_000;

/** What the steady publisher sends: `count` items at `ratePerSecond`, at most `maxInFlight` unresolved. */
export interface PublishLoad {
  count: number;
  ratePerSecond: number;
  maxInFlight: number;
}

/**
 * A failover chaos test's fixture: a chaos app (failover transport, ledger consumer) on a fresh
 * namespace, the acks of its domain timed, and a steady publisher into the domain that the test
 * starts itself.
 */
export interface PublishingRun {
  namespace: TestNamespace;
  domain: string;
  ledger: Ledger;
  app: ChaosApp;
  publisher: SteadyPublisher;
  /** Resolves once the publisher launched `count` publishes. */
  launched(count: number): Promise<void>;
  /** Runs `fault` (kill -9, SIGSTOP) and returns what was in flight at that moment. */
  fault(fault: () => Promise<void>): Promise<FaultSnapshot>;
  /** Closes the app and, unless the setup keeps them, deletes the namespace's streams and queues: both brokers must be up again. */
  close(): Promise<void>;
}

/** How a run differs from the default (the run's single NATS and RabbitMQ, namespace purged at close). */
export interface PublishingRunSetup {
  /** Module options over the chaos app's, given the run's namespace (other brokers, other timeouts). */
  options?: (namespace: TestNamespace) => KanbanModuleOptions;
  /** Longest wait for the publisher to reach the count at which the next fault strikes. @default 30000 */
  phaseTimeoutMs?: number;
  /** Whether close() deletes the namespace's streams and queues from the run's single brokers. @default true */
  purgeOnClose?: boolean;
}

/** Starts the app on domain `name`; the publisher's keys are `name-0`, `name-1`, … */
export async function startPublishingRun(name: string, load: PublishLoad, setup: PublishingRunSetup = {}): Promise<PublishingRun> {
  const { phaseTimeoutMs = PHASE_TIMEOUT_MS, purgeOnClose = true } = setup;
  const namespace = testNamespace();
  const domain = namespace.domain(name);
  const ledger = new Ledger();
  const app = await createChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt), setup.options?.(namespace));
  const acks = new AckWindow(app.module.get(KanbanEvents), domain);
  const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), { ...load, keyPrefix: name });
  return {
    namespace,
    domain,
    ledger,
    app,
    publisher,
    async launched(count) {
      await waitFor(() => publisher.launched >= count, { timeoutMs: phaseTimeoutMs, description: `${count} publishes launched` });
    },
    fault: (fault) => faultWithSnapshot({ queue: app.queue, acks }, domain, fault),
    async close() {
      acks.close();
      await app.close();
      if (purgeOnClose) await purgeNamespace(namespace, [domain]);
    },
  };
}
