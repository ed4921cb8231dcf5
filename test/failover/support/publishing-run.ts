import { KanbanEvents } from '../../../libs/kanban/src';
import { testNamespace, waitFor } from '../../harness';
import { AckWindow } from '../../chaos/support/ack-window';
import { faultWithSnapshot, type FaultSnapshot } from '../../chaos/support/nats-app';
import { Ledger } from '../../ledger/ledger';
import { createChaosApp, type ChaosApp } from './chaos-app';
import { purgeNamespace } from './purge-namespace';
import { SteadyPublisher } from './steady-publisher';

/** Longest wait for the publisher to reach the count at which the next fault strikes. */
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
  domain: string;
  ledger: Ledger;
  app: ChaosApp;
  publisher: SteadyPublisher;
  /** Resolves once the publisher launched `count` publishes. */
  launched(count: number): Promise<void>;
  /** Runs `fault` (kill -9, SIGSTOP) and returns what was in flight at that moment. */
  fault(fault: () => Promise<void>): Promise<FaultSnapshot>;
  /** Closes the app and deletes the namespace's streams and queues: both brokers must be up again. */
  close(): Promise<void>;
}

/** Starts the app on domain `name`; the publisher's keys are `name-0`, `name-1`, … */
export async function startPublishingRun(name: string, load: PublishLoad): Promise<PublishingRun> {
  const namespace = testNamespace();
  const domain = namespace.domain(name);
  const ledger = new Ledger();
  const app = await createChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt));
  const acks = new AckWindow(app.module.get(KanbanEvents), domain);
  const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), { ...load, keyPrefix: name });
  return {
    domain,
    ledger,
    app,
    publisher,
    async launched(count) {
      await waitFor(() => publisher.launched >= count, { timeoutMs: PHASE_TIMEOUT_MS, description: `${count} publishes launched` });
    },
    fault: (fault) => faultWithSnapshot({ queue: app.queue, acks }, domain, fault),
    async close() {
      acks.close();
      await app.close();
      await purgeNamespace(namespace, [domain]);
    },
  };
}
