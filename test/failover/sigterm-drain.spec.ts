import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { itControllingBrokers, natsBroker, rabbitmqBroker, testNamespace, waitFor } from '../harness';
import { Ledger } from '../ledger/ledger';
import { CHAOS_MODULE_OPTIONS } from './support/chaos-options';
import { drain } from './support/drain';
import { processedJustBefore } from './support/duplicates';
import { Observer } from './support/observer';
import { purgeNamespace } from './support/purge-namespace';
import { ServerProcess } from './support/server-process';

/** Items published in each phase: on NATS, on RabbitMQ (NATS dead), into the outbox (both dead). */
const ITEMS_PER_PHASE = 200;
/**
 * Slow work (under the 2 s processing timeout) in small batches, so the workers hold items when
 * SIGTERM comes: RabbitMQ dies just after an item started, and SIGTERM follows within the outbox phase.
 */
const HANDLER_DELAY_MS = 1_500;
const WORKER_PULL_SIZE = 2;
const JUST_STARTED_MS = 250;
const PHASE_TIMEOUT_MS = 30_000;
/**
 * RabbitMQ 3.10 can lose a quorum queue declared moments before a kill -9 (harness README); the
 * server declares its queues at start-up, and RabbitMQ is killed no sooner than this after it.
 */
const RABBITMQ_QUEUE_SETTLE_MS = 5_000;

/**
 * What the server can hold at once (its workers' pulls): what was in flight at each of the three
 * faults, at most. The count itself is not observable from outside: RabbitMQ does not show another
 * process's unacknowledged deliveries, and at SIGTERM both brokers are down.
 */
const SERVER_HOLDS_AT_MOST = (CHAOS_MODULE_OPTIONS.maxWorkers as number) * WORKER_PULL_SIZE;

const chaos = itControllingBrokers('nats', 'rabbitmq');

/**
 * "Drains" here means what the library promises on SIGTERM: intake stops, every item a worker holds
 * is finished before the process exits, the outbox is forwarded if a broker can take it (not here:
 * both are down) and otherwise stays durably in its file, and items on the brokers stay there. All
 * of it is processed by the next start.
 */
describe('failover chaos 5: SIGTERM while work sits on both brokers and in the outbox', () => {
  chaos(
    'finishes in-flight work, keeps the outbox on disk, exits 0, and the next start processes everything',
    async () => {
      // Arrange
      const namespace = testNamespace();
      const domain = namespace.domain('drain');
      const ledger = new Ledger();
      const observer = new Observer(namespace, domain);
      const servers: ServerProcess[] = [];
      try {
        await observer.connect();
        const first = new ServerProcess({ ...observer.config, handlerDelayMs: HANDLER_DELAY_MS, workerPullSize: WORKER_PULL_SIZE }, ledger);
        servers.push(first);
        await first.waitUntilReady();
        const readyAt = performance.now();
        await first.publish({ prefix: 'nats', count: ITEMS_PER_PHASE });
        const natsKilledAt = performance.now();
        await natsBroker().kill9();
        await first.publish({ prefix: 'rabbitmq', count: ITEMS_PER_PHASE });
        await sleep(Math.max(0, readyAt + RABBITMQ_QUEUE_SETTLE_MS - performance.now()));
        await waitFor(() => first.startedWithin(JUST_STARTED_MS), { timeoutMs: PHASE_TIMEOUT_MS, description: 'an item just started by the server' });
        const rabbitmqKilledAt = performance.now();
        await rabbitmqBroker().kill9();
        await first.publish({ prefix: 'outbox', count: ITEMS_PER_PHASE });
        const heldAtTerm = first.unfinished();

        // Act
        const termAt = performance.now();
        const exit = await first.terminate();
        const shutdownMs = Math.round(performance.now() - termAt);
        const keptInOutbox = observer.serverOutboxSize();
        await natsBroker().restart();
        await rabbitmqBroker().restart();
        const second = new ServerProcess(observer.config, ledger);
        servers.push(second);
        await second.waitUntilReady();
        await drain(observer.failover, observer.failover, domain, ledger);
        const secondExit = await second.terminate();

        // Assert
        const summary = ledger.summary();
        // Per fault: what the server holds at most, and items processed just before it whose acks may not have landed.
        const inFlightAtFault = [natsKilledAt, rabbitmqKilledAt, termAt].reduce((sum, at) => sum + SERVER_HOLDS_AT_MOST + processedJustBefore(ledger, first.startedKeys(), at), 0);
        console.log(
          ledger.line('failover chaos 5 (SIGTERM with work on both brokers and in the outbox)', {
            inFlightAtFault,
            items: 3 * ITEMS_PER_PHASE,
            heldAtTerm: heldAtTerm.length,
            shutdownMs,
            keptInOutbox,
          }),
        );
        expect({ exit, log: exit.code === 0 ? '' : first.stderr.slice(-6_000) }).toEqual({ exit: { code: 0, signal: null }, log: '' });
        expect(first.closedCleanly).toBe(true);
        expect(heldAtTerm.length).toBeGreaterThan(0);
        expect(first.unfinished()).toEqual([]);
        expect(summary.byBroker.nats).toBeGreaterThan(0);
        expect(summary.byBroker.rabbitmq).toBeGreaterThan(0);
        expect(summary.byBroker.outbox).toBeGreaterThan(0);
        expect(keptInOutbox).toBe(summary.byBroker.outbox);
        expect(first.stderr).toContain(`Closed with ${keptInOutbox} item(s) kept in the outbox`);
        expect(summary).toMatchObject({
          attempted: 3 * ITEMS_PER_PHASE,
          acknowledged: 3 * ITEMS_PER_PHASE,
          processed: 3 * ITEMS_PER_PHASE,
          acknowledgedDeadLettered: 0,
          rejected: 0,
          lost: 0,
          unexpected: 0,
        });
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        expect(secondExit).toEqual({ code: 0, signal: null });
        expect(observer.serverOutboxSize()).toBe(0);
      } finally {
        await Promise.all(servers.map((server) => server.kill9()));
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        if (!(await rabbitmqBroker().isRunning())) await rabbitmqBroker().restart();
        await observer.close();
        await purgeNamespace(namespace, [domain]);
      }
    },
    240_000,
  );
});
