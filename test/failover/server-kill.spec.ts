import { makeItem } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { Ledger } from '../ledger/ledger';
import { performance } from 'node:perf_hooks';
import { drain } from './support/drain';
import { processedJustBefore } from './support/duplicates';
import { Observer } from './support/observer';
import { purgeNamespace } from './support/purge-namespace';
import { ServerProcess } from './support/server-process';

/** Items waiting on each broker when the server starts. */
const ITEMS_PER_BROKER = 150;
/** The server is killed once it finished this many, just after it started another (so it holds one mid-processing). */
const KILL_AFTER_PROCESSED = 40;
const HANDLER_DELAY_MS = 200;
const JUST_STARTED_MS = 50;
const PHASE_TIMEOUT_MS = 30_000;

describe('failover chaos 4: kill -9 of the server process mid-processing', () => {
  it('redelivers (or dead-letters as stalled) what the dead server held, from both brokers, and loses nothing', async () => {
    // Arrange
    const namespace = testNamespace();
    const domain = namespace.domain('crash');
    const ledger = new Ledger();
    const observer = new Observer(namespace, domain);
    const servers: ServerProcess[] = [];
    try {
      await observer.connect();
      for (const [broker, transport] of [
        ['nats', observer.nats],
        ['rabbitmq', observer.rabbitmq],
      ] as const) {
        for (let n = 0; n < ITEMS_PER_BROKER; n++) {
          const key = `${broker}-${n}`;
          ledger.attempt(key);
          const receipt = await transport.publish(makeItem({ domain, payload: { key }, deadlineMs: 600_000 }));
          ledger.acknowledge(key, receipt.broker);
        }
      }
      const first = new ServerProcess({ ...observer.config, handlerDelayMs: HANDLER_DELAY_MS }, ledger);
      servers.push(first);
      await first.waitUntilReady();
      await waitFor(() => ledger.summary().processed >= KILL_AFTER_PROCESSED && first.startedWithin(JUST_STARTED_MS), {
        timeoutMs: PHASE_TIMEOUT_MS,
        intervalMs: 5,
        description: `${KILL_AFTER_PROCESSED} items processed and one just started`,
      });

      // Act
      const killedAt = performance.now();
      const killed = await first.kill9();
      const heldAtKill = first.unfinished();
      // In flight at the kill: items mid-processing, and items processed just before it whose acks may not have landed.
      const inFlightAtFault = heldAtKill.length + processedJustBefore(ledger, first.startedKeys(), killedAt);
      const second = new ServerProcess(observer.config, ledger);
      servers.push(second);
      await second.waitUntilReady();
      await drain(observer.failover, observer.failover, domain, ledger);
      const stopped = await second.terminate();

      // Assert
      const redelivered = heldAtKill.filter((key) => ledger.attemptsOf(key).some((attempt) => attempt >= 2));
      const stalled = heldAtKill.filter((key) => ledger.deadLetterReasonsOf(key).includes('stalled'));
      const secondAttempts = second.startedKeys().filter((key) => ledger.attemptsOf(key).some((attempt) => attempt >= 2)).length;
      console.log(
        ledger.line('failover chaos 4 (kill -9 of the server)', {
          inFlightAtFault,
          items: 2 * ITEMS_PER_BROKER,
          heldAtKill: heldAtKill.length,
          redelivered: redelivered.length,
          stalled: stalled.length,
          secondAttempts,
        }),
      );
      expect(killed.signal).toBe('SIGKILL');
      expect(heldAtKill.length).toBeGreaterThan(0);
      expect([...redelivered, ...stalled].sort()).toEqual([...heldAtKill].sort());
      // The one dead-lettering this scenario allows: an item the dead server held, as stalled. Every other acknowledged item is processed.
      const deadLetteredOtherwise = ledger.acknowledgedDeadLettered().filter((key) => !heldAtKill.includes(key) || ledger.deadLetterReasonsOf(key).some((reason) => reason !== 'stalled'));
      const stalledNeverProcessed = stalled.filter((key) => ledger.attemptsOf(key).length === 0);
      expect(deadLetteredOtherwise).toEqual([]);
      expect(ledger.summary()).toMatchObject({ acknowledged: 2 * ITEMS_PER_BROKER, processed: 2 * ITEMS_PER_BROKER - stalledNeverProcessed.length, lost: 0, unexpected: 0 });
      expect(ledger.summary().duplicates).toBeLessThanOrEqual(inFlightAtFault);
      expect(stopped).toEqual({ code: 0, signal: null });
    } finally {
      await Promise.all(servers.map((server) => server.kill9()));
      await observer.close();
      await purgeNamespace(namespace, [domain]);
    }
  }, 180_000);
});
