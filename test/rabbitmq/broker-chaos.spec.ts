import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { QueueDepth } from '../../libs/kanban/src/interfaces';
import type { TransportStatus } from '../../libs/kanban/src/transport';
import { RABBITMQ_CLOSE_STEP_TIMEOUT_MS, RABBITMQ_TOPOLOGY_TIMEOUT_MS, RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { LONG_LEASE_MS, contractSettings, eventually, makeItem, pullExactly } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { kill9, signalGroup } from '../harness/local-process';
import { persistedRaNames, raServerName, relaunchLocalRabbitMq } from '../harness/local-rabbitmq';
import { ACK_IN_FLIGHT_WINDOW_MS, duplicatesSettledBefore } from '../failover/support/duplicates';
import { Ledger } from '../ledger/ledger';
import { privateRabbitMqNode } from './support/private-rabbitmq-node';

/** Items published in all; the broker is killed once KILL_AFTER of them are confirmed. */
const TOTAL = 3_000;
const KILL_AFTER = 1_000;
/** Publishes in flight at once, like a busy producer. */
const PUBLISH_CONCURRENCY = 20;
/** Worker loops pulling and acking, as a worker pool would. */
const WORKERS = 2;
/** Time allowed for everything confirmed to be processed once every publish is confirmed. */
const SETTLE_TIMEOUT_MS = 60_000;
/** Time allowed for the publishes after the restart to be confirmed. */
const PUBLISH_REST_TIMEOUT_MS = 60_000;
/** Time allowed for the workers to empty the queue once everything confirmed was processed. */
const DRAIN_TIMEOUT_MS = 20_000;
/** Ra saves its directory of queue names once left alone for 500 ms; this is plenty. */
const RA_NAMES_SAVED_TIMEOUT_MS = 15_000;
/** Every phase and loop of the kill -9 test ends by then; close and the loops' last steps fit in what is left of the Jest timeout. */
const KILL_TEST_BUDGET_MS = 190_000;
const KILL_TEST_TIMEOUT_MS = 240_000;
/** A loop's last step (a publish bounded by publishTimeoutMs after a declaration bounded by the topology timeout, or a pull) ends within this. */
const LOOPS_STOP_TIMEOUT_MS = 20_000;
/** A failed publish or pull is retried after this pause (bounded loops, not a fixed wait for a state). */
const RETRY_PAUSE_MS = 50;
/** Publish timeout while the node is frozen. */
const FROZEN_PUBLISH_TIMEOUT_MS = 1_000;
/** How late a timer may fire on a loaded machine. */
const TIMER_SLACK_MS = 1_000;
/** Steps of close, each bounded by RABBITMQ_CLOSE_STEP_TIMEOUT_MS. */
const CLOSE_STEPS = 5;
/** Time allowed for publishing to work again after SIGCONT (a dropped connection is re-opened with backoff). */
const FROZEN_RECOVERY_MS = 30_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** States (from /proc/<pid>/stat) of every process in the group led by `leader`. */
function groupStates(leader: number): string[] {
  const states: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === leader) states.push(fields[0]);
    } catch {
      // The process ended while we looked.
    }
  }
  return states;
}

/** SIGSTOP the node's process group and wait until every process in it has actually stopped. */
async function freeze(leader: number): Promise<void> {
  signalGroup(leader, 'SIGSTOP');
  await waitFor(
    () => {
      const states = groupStates(leader);
      return states.length > 0 && states.every((state) => state === 'T');
    },
    { timeoutMs: 5_000, intervalMs: 10, description: `process group ${leader} to stop` },
  );
}

/**
 * kill -9 and SIGSTOP of the RabbitMQ node, on a node of its own so no other test file loses its
 * broker mid-run.
 */
describe('RabbitMQ node killed or frozen', () => {
  const node = privateRabbitMqNode();

  it(
    'reconnects, re-attaches its consumers and delivers every confirmed item (duplicates counted, none lost)',
    async () => {
      // Arrange
      const local = node();
      const startedAt = performance.now();
      /** Every phase wait and every loop ends by then, well inside the Jest timeout, so `finally` always runs. */
      const loopDeadline = startedAt + KILL_TEST_BUDGET_MS;
      const remaining = (): number => Math.max(0, loopDeadline - performance.now());
      const prefix = testNamespace().queuePrefix;
      const names = new RabbitMqNames(prefix);
      const transport = new RabbitMqTransport({ url: `amqp://guest:guest@127.0.0.1:${local.port}`, queuePrefix: prefix }, contractSettings({ workerPullSize: 10, maxQueueDepth: 100_000 }));
      const ledger = new Ledger();
      const states: TransportStatus['state'][] = [];
      const subscription = transport.status$.subscribe((status) => states.push(status.state));
      const retriedAfterUnknownOutcome = new Set<string>();
      const loopErrors: string[] = [];
      let processedAfterRestart = 0;
      let restarted = false;
      let stopped = false;
      let publishesPending = 0;
      let phase = 'connecting';
      const keyOf = (n: number): string => `chaos-${n}`;
      const items = Array.from({ length: TOTAL }, (_, n) => makeItem({ payload: { key: keyOf(n) } }));
      const running = (): boolean => !stopped && performance.now() < loopDeadline;
      const phaseWait = (condition: () => boolean | Promise<boolean>, timeoutMs: number, description: string): Promise<boolean> =>
        waitFor(condition, { timeoutMs: Math.min(timeoutMs, remaining()), intervalMs: 10, description });

      const worker = async (): Promise<void> => {
        while (running()) {
          let batch;
          try {
            // Bounded by waitMs even when the queue does not answer (a leaderless quorum queue): the loop always gets to see `running()`.
            batch = await transport.pull({ domain: 'orders', priority: 'normal' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: 200 });
          } catch (error) {
            if (!(error instanceof BrokerUnavailableError)) throw error;
            await pause(RETRY_PAUSE_MS);
            continue;
          }
          for (const delivery of batch) {
            if ('malformed' in delivery) throw new Error(`malformed delivery ${delivery.id}: ${delivery.error}`);
            ledger.process((delivery.item.payload as { key: string }).key, delivery.item.attempts);
            if (restarted) processedAfterRestart++;
            await transport.ack(delivery).catch(() => undefined);
          }
        }
      };
      const publisher = async (lane: number): Promise<void> => {
        for (let n = lane; n < TOTAL && running(); n += PUBLISH_CONCURRENCY) {
          const key = keyOf(n);
          ledger.attempt(key);
          let lastError = '';
          while (running()) {
            try {
              // Bounded by publishTimeoutMs: a publish the broker never confirms rejects, it does not hang.
              publishesPending++;
              const receipt = await transport.publish(items[n]).finally(() => publishesPending--);
              ledger.acknowledge(key, receipt.broker);
              break;
            } catch (error) {
              if (!(error instanceof BrokerUnavailableError)) throw error;
              // A publish cut off by the crash may or may not be stored; publishing it again may duplicate it.
              retriedAfterUnknownOutcome.add(key);
              lastError = error.message;
              await pause(RETRY_PAUSE_MS);
            }
          }
          if (ledger.brokerOf(key) === undefined) ledger.reject(key, lastError || 'stopped before it was published');
        }
      };
      const watched = (loop: Promise<void>, name: string): Promise<void> =>
        loop.catch((error: unknown) => {
          loopErrors.push(`${name}: ${(error as Error).message}`);
          throw error;
        });
      let workers: Promise<void>[] = [];
      let publishers: Promise<void>[] = [];

      // Act
      let killedAt = 0;
      let noticedDownAt = 0;
      let brokerBackMs: number;
      let reconnectedMs: number;
      let publishesPendingAtKill: number;
      let leftOver: QueueDepth[] = [];
      try {
        try {
          await transport.connect();
          phase = 'declaring the work queue';
          await transport.ensureQueue('normal', 'orders');
          // RabbitMQ 3.10 brings a quorum queue back without a leader after a kill -9 unless Ra has saved its name (see the
          // RabbitMQ transport README): queues in production exist long before a crash, so the test kills only once they are saved.
          phase = "waiting for the node to save its quorum queues' Ra names";
          const raNames = [names.workQueue('normal', 'orders'), names.intakeQueue].map(raServerName);
          await phaseWait(
            async () => {
              const saved = await persistedRaNames(local);
              return raNames.every((name) => saved.includes(name));
            },
            RA_NAMES_SAVED_TIMEOUT_MS,
            `Ra to save ${raNames.join(', ')} to names.dets`,
          );
          workers = Array.from({ length: WORKERS }, (_, index) => watched(worker(), `worker ${index}`));
          publishers = Array.from({ length: PUBLISH_CONCURRENCY }, (_, lane) => watched(publisher(lane), `publisher ${lane}`));
          phase = `publishing the first ${KILL_AFTER} items`;
          await phaseWait(() => ledger.acknowledgedCount >= KILL_AFTER || loopErrors.length > 0, 60_000, `${KILL_AFTER} confirmed publishes`);
          phase = 'killing the node';
          publishesPendingAtKill = publishesPending;
          killedAt = performance.now();
          await kill9(local.pid);
          phase = 'waiting for the transport to notice the node is gone';
          await phaseWait(() => transport.currentStatus.state === 'down', 10_000, 'the transport to notice the broker is gone');
          noticedDownAt = performance.now();
          phase = 'relaunching the node';
          local.pid = await relaunchLocalRabbitMq(local);
          brokerBackMs = performance.now() - killedAt;
          phase = 'waiting for the transport to reconnect';
          await phaseWait(() => transport.currentStatus.state === 'up', 30_000, 'the transport to reconnect');
          reconnectedMs = performance.now() - killedAt;
          restarted = true;
          phase = 'publishing the rest';
          await phaseWait(() => ledger.acknowledgedCount === TOTAL || loopErrors.length > 0, PUBLISH_REST_TIMEOUT_MS, `all ${TOTAL} publishes to be confirmed`);
          await Promise.all(publishers);
          phase = 'processing every acknowledged item';
          await phaseWait(() => ledger.outstanding().length === 0 || loopErrors.length > 0, SETTLE_TIMEOUT_MS, 'every confirmed item to be processed');
          phase = 'draining the queue';
          // Bounded drain: the workers keep pulling until the broker holds nothing ready and this transport holds nothing leased.
          await phaseWait(
            async () => {
              leftOver = (await transport.depth()).filter((row) => row.ready > 0 || row.inFlight > 0);
              return leftOver.length === 0;
            },
            DRAIN_TIMEOUT_MS,
            'the work queue to be empty',
          );
          if (loopErrors.length > 0) throw new Error(`a loop failed: ${loopErrors.join('; ')}`);
        } catch (error) {
          throw new Error(
            `[rabbitmq kill -9] stuck in phase "${phase}" after ${Math.round(performance.now() - startedAt)} ms: ${(error as Error).message}; ` +
              `transport ${transport.currentStatus.state}${transport.currentStatus.detail ? ` (${transport.currentStatus.detail})` : ''}; ${ledger.line('ledger')}` +
              `${loopErrors.length > 0 ? `; loop errors: ${loopErrors.join('; ')}` : ''}; node log: ${local.spec.env.RABBITMQ_LOG_BASE}`,
            { cause: error },
          );
        }
      } finally {
        stopped = true;
        const loops = Promise.allSettled([...publishers, ...workers]);
        // Each loop step is bounded (publishTimeoutMs, a pull's wait), so the loops see `stopped` within one step.
        let loopsTimer: NodeJS.Timeout | undefined;
        const loopsEnded = await Promise.race([
          loops.then(() => true),
          new Promise<boolean>((resolve) => {
            loopsTimer = setTimeout(() => resolve(false), LOOPS_STOP_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(loopsTimer);
        subscription.unsubscribe();
        await transport.close();
        // eslint-disable-next-line no-unsafe-finally -- loops still running after the stop fail the test even when a phase failed first
        if (!loopsEnded) throw new Error(`[rabbitmq kill -9] publisher or worker loops still running ${LOOPS_STOP_TIMEOUT_MS} ms after the stop (phase "${phase}")`);
      }

      // Assert
      const summary = ledger.summary();
      // In flight at the fault: deliveries processed shortly before the kill or taken before the transport noticed it (their acks
      // may not have been applied), and publishes whose outcome was unknown (retried, so possibly stored twice).
      const inFlightAtFault = new Set([
        ...ledger.duplicatedKeys().filter((key) => {
          const first = ledger.firstProcessedAtOf(key) ?? Number.POSITIVE_INFINITY;
          return first >= killedAt - ACK_IN_FLIGHT_WINDOW_MS && first <= noticedDownAt;
        }),
        ...retriedAfterUnknownOutcome,
      ]);
      const unexplained = ledger.duplicatedKeys().filter((key) => !inFlightAtFault.has(key));
      process.stdout.write(
        `${ledger.line('[rabbitmq kill -9] ledger', {
          items: TOTAL,
          unknownOutcomes: retriedAfterUnknownOutcome.size,
          publishesPendingAtKill,
          repeatedAttempts: ledger.repeatedAttempts(),
          processedAfterRestart,
          downNoticedMs: Math.round(noticedDownAt - killedAt),
          brokerBackMs: Math.round(brokerBackMs),
          upAfterMs: Math.round(reconnectedMs),
        })}\n`,
      );
      expect(summary).toMatchObject({ attempted: TOTAL, acknowledged: TOTAL, rejected: 0, lost: 0, unexpected: 0 });
      expect(unexplained).toEqual([]);
      expect(duplicatesSettledBefore(ledger, killedAt - ACK_IN_FLIGHT_WINDOW_MS)).toEqual([]);
      expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault.size);
      expect(leftOver).toEqual([]);
      expect(processedAfterRestart).toBeGreaterThan(0);
      expect(states).toEqual(expect.arrayContaining(['down', 'up']));
      expect(states.indexOf('down')).toBeLessThan(states.lastIndexOf('up'));
    },
    KILL_TEST_TIMEOUT_MS,
  );

  it('fails publishes, queue checks and close within their bounds while the node is frozen, and carries on after SIGCONT', async () => {
    // Arrange
    const local = node();
    const transport = new RabbitMqTransport(
      { url: `amqp://guest:guest@127.0.0.1:${local.port}`, queuePrefix: testNamespace().queuePrefix, publishTimeoutMs: FROZEN_PUBLISH_TIMEOUT_MS },
      contractSettings(),
    );
    await transport.connect();
    await transport.ensureQueue('normal', 'orders');
    const during = makeItem({ payload: 'published while frozen' });
    const after = makeItem({ payload: 'published after SIGCONT' });

    // Act
    let publishError: unknown;
    let depthError: unknown;
    let publishFailedMs: number;
    let depthFailedMs: number;
    let receipt;
    let delivered;
    let recoveredMs: number;
    let closedMs: number;
    try {
      await freeze(local.pid);
      const frozenAt = performance.now();
      publishError = await transport.publish(during).catch((error: unknown) => error);
      publishFailedMs = performance.now() - frozenAt;
      depthError = await transport.depth().catch((error: unknown) => error);
      depthFailedMs = performance.now() - frozenAt - publishFailedMs;
      signalGroup(local.pid, 'SIGCONT');
      const resumedAt = performance.now();
      // The node may drop the connection on waking (it missed the client's heartbeats): publish like a producer would, until accepted.
      receipt = await eventually('a publish accepted after SIGCONT', () => transport.publish(after).catch(() => undefined), FROZEN_RECOVERY_MS);
      recoveredMs = performance.now() - resumedAt;
      delivered = await pullExactly(transport, { domain: 'orders', priority: 'normal' }, 1);
      await freeze(local.pid);
      const closingAt = performance.now();
      await transport.close();
      closedMs = performance.now() - closingAt;
    } finally {
      signalGroup(local.pid, 'SIGCONT');
      await transport.close();
    }

    // Assert
    process.stdout.write(
      `[rabbitmq SIGSTOP] publish failed after ${Math.round(publishFailedMs)} ms, depth after ${Math.round(depthFailedMs)} ms; ` +
        `publishing again ${Math.round(recoveredMs)} ms after SIGCONT; close while frozen took ${Math.round(closedMs)} ms\n`,
    );
    expect(publishError).toBeInstanceOf(BrokerUnavailableError);
    expect((publishError as Error).message).toContain('outcome is unknown');
    expect(publishFailedMs).toBeLessThan(FROZEN_PUBLISH_TIMEOUT_MS + TIMER_SLACK_MS);
    expect(depthError).toBeInstanceOf(BrokerUnavailableError);
    expect(depthFailedMs).toBeLessThan(RABBITMQ_TOPOLOGY_TIMEOUT_MS + TIMER_SLACK_MS);
    expect(receipt.id).toBe(after.id);
    // The publish that timed out reached the node before the freeze; its outcome was unknown, not failed.
    expect([during.id, after.id]).toContain(delivered[0].id);
    expect(closedMs).toBeLessThan(CLOSE_STEPS * RABBITMQ_CLOSE_STEP_TIMEOUT_MS + TIMER_SLACK_MS);
    expect(transport.currentStatus.state).toBe('closed');
  }, 90_000);
});
