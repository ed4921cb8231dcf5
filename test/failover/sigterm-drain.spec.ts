import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { natsBroker, rabbitmqBroker, testNamespace } from '../harness';
import { Ledger } from '../ledger/ledger';
import { drain } from './support/drain';
import { Observer } from './support/observer';
import { purgeNamespace } from './support/purge-namespace';
import { ServerProcess } from './support/server-process';

/** Items published in each phase: on NATS, on RabbitMQ (NATS dead), into the outbox (both dead). */
const ITEMS_PER_PHASE = 200;
/** Slow work, so the workers hold items when SIGTERM comes. */
const HANDLER_DELAY_MS = 500;
/**
 * RabbitMQ 3.10 can lose a quorum queue declared moments before a kill -9 (harness README); the
 * server declares its queues at start-up, and RabbitMQ is killed no sooner than this after it.
 */
const RABBITMQ_QUEUE_SETTLE_MS = 5_000;

const chaos = natsBroker().controllable && rabbitmqBroker().controllable ? it : it.skip;

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
        const first = new ServerProcess({ ...observer.config, handlerDelayMs: HANDLER_DELAY_MS }, ledger);
        servers.push(first);
        await first.waitUntilReady();
        const readyAt = performance.now();
        await first.publish({ prefix: 'nats', count: ITEMS_PER_PHASE });
        await natsBroker().kill9();
        await first.publish({ prefix: 'rabbitmq', count: ITEMS_PER_PHASE });
        await sleep(Math.max(0, readyAt + RABBITMQ_QUEUE_SETTLE_MS - performance.now()));
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
        console.log(ledger.line('failover chaos 5 (SIGTERM with work on both brokers and in the outbox)', { items: 3 * ITEMS_PER_PHASE, heldAtTerm: heldAtTerm.length, shutdownMs, keptInOutbox }));
        expect(exit).toEqual({ code: 0, signal: null });
        expect(first.closedCleanly).toBe(true);
        expect(heldAtTerm.length).toBeGreaterThan(0);
        expect(first.unfinished()).toEqual([]);
        expect(summary.byBroker.nats).toBeGreaterThan(0);
        expect(summary.byBroker.rabbitmq).toBeGreaterThan(0);
        expect(summary.byBroker.outbox).toBeGreaterThan(0);
        expect(keptInOutbox).toBe(summary.byBroker.outbox);
        expect(first.stderr).toContain(`Closed with ${keptInOutbox} item(s) kept in the outbox`);
        expect(summary).toMatchObject({ attempted: 3 * ITEMS_PER_PHASE, acknowledged: 3 * ITEMS_PER_PHASE, rejected: 0, lost: 0, unexpected: 0 });
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
