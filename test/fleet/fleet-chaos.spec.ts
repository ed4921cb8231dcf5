import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PublishReceipt } from '@tps/kanban';
import { chaosSeed, seededRandom } from '../chaos/support/seeded-random';
import { SteadyPublisher } from '../failover/support/steady-publisher';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor, type TestNamespace } from '../harness';
import { Ledger } from '../ledger/ledger';
import type { FleetServerConfig } from './fixtures/fleet-server';
import { Fleet, get, post } from './support/fleet-http';
import { FleetInstance } from './support/fleet-instance';
import { HttpWorker, type WorkerPlan } from './support/http-worker';
import { LeaseBook, type SettleRecord } from './support/lease-book';

const INSTANCES = 3;
const WORKERS = 8;
const ITEMS = 180;
const PUBLISH_RATE_PER_SECOND = 24;
const PUBLISH_IN_FLIGHT = 16;
/** The victim is killed once this many items were processed, while a worker is on one of its leases and a settle is being relayed to it. */
const KILL_AFTER_PROCESSED = 40;
/** Bounds for a loaded two-CPU machine (three servers, eight workers, the brokers), not expected durations. */
const KILL_TIMEOUT_MS = 60_000;
/** The dead instance's leases come back after the lease (NATS: the consumer's ack wait, 11 s here); RabbitMQ requeues them at once. */
const DRAIN_TIMEOUT_MS = 90_000;
const CASE_TIMEOUT_MS = 300_000;
const ITEM_DEADLINE_MS = 600_000;

/**
 * A 5 s processing timeout gives 10 s leases: short enough for the dead instance's items to come
 * back within the test, long enough that no live instance's lease lapses on a loaded machine (a
 * lapse there would be a duplicate the kill did not cause). The stall limit (20 s) stays above every
 * lease, so nothing is swept as stalled; depth is sampled every 500 ms (the drain reads it); every
 * client is 127.0.0.1, so the per-client rate limit is lifted.
 */
const SERVER_ENV = {
  KANBAN_WORKER_PROCESS_TIMEOUT_MS: '5000',
  KANBAN_DEAD_LETTER_TIMEOUT_MS: '20000',
  KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '500',
  KANBAN_RATE_LIMIT_PER_SECOND: '100000',
};

/** Most items are acked; a tenth of first attempts are retried, a tenth of items are extended first; every settle goes to another instance than the holder. */
const PLAN: Omit<WorkerPlan, 'domain'> = { pullMax: 4, pullWaitMs: 500, workMinMs: 5, workMaxMs: 80, retryShare: 0.1, retryDelayMs: 200, extendShare: 0.1 };

const BROKERS: Record<string, (namespace: TestNamespace) => FleetServerConfig> = {
  nats: (namespace) => ({ env: { KANBAN_NATS_SERVERS: natsBroker().url }, streamPrefix: namespace.streamPrefix }),
  rabbitmq: (namespace) => ({ env: { KANBAN_RABBITMQ_URL: rabbitmqBroker().url }, queuePrefix: namespace.queuePrefix }),
};

interface QueuesView {
  queues: { domain: string; ready: number; inFlight: number }[];
  sampledAt: number | null;
}

interface DeadLetterView {
  reason: string;
  item?: { payload: { key: string } };
}

/** Every live instance's depth sample, taken after `since` (epoch ms), shows nothing ready or in flight for the domain. */
async function emptyEverywhere(fleet: Fleet, domain: string, since: number): Promise<boolean> {
  for (const instance of fleet.live()) {
    const { body } = await get<QueuesView>(instance, '/queues');
    if (body.sampledAt === null || body.sampledAt <= since) return false;
    if (body.queues.some((queue) => queue.domain === domain && (queue.ready > 0 || queue.inFlight > 0))) return false;
  }
  return true;
}

/** A settle the dead holder could not have run: refused as a lapsed lease, or a typed 503. */
function refusedAsDead(record: SettleRecord): boolean {
  return record.status === 409 || (record.status === 503 && record.code === 'broker_unavailable');
}

describe.each(Object.keys(BROKERS))('fleet chaos: kill -9 of one of three server instances under HTTP workers (%s)', (broker) => {
  const instances: FleetInstance[] = [];
  const workers: HttpWorker[] = [];
  const running: Promise<unknown>[] = [];
  let publisher: SteadyPublisher | undefined;
  let dir: string | undefined;

  afterAll(async () => {
    publisher?.stop();
    for (const worker of workers) worker.stop();
    await Promise.allSettled(running);
    await Promise.all(instances.map((instance) => instance.kill9()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'brings back what the dead instance held and processes it, loses no acknowledged publish, and never answers 200 for an item processed again',
    async () => {
      // Arrange: three instances on one broker, a producer and HTTP workers at random instances.
      const startedAt = performance.now();
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const namespace = testNamespace();
      const domain = namespace.domain('fleet-chaos');
      const brokerConfig = BROKERS[broker](namespace);
      const storeDir = (dir = mkdtempSync(join(tmpdir(), 'kanban-fleet-chaos-')));
      for (let n = 0; n < INSTANCES; n++) {
        instances.push(new FleetInstance(`instance-${n}`, { ...brokerConfig, env: { ...brokerConfig.env, ...SERVER_ENV, KANBAN_EMBEDDED_PATH: join(storeDir, `instance-${n}.db`) } }));
      }
      await Promise.all(instances.map((instance) => instance.listening()));
      const listeningAt = performance.now();
      const fleet = new Fleet(instances, random);
      const [victim] = instances;
      const ledger = new Ledger();
      const book = new LeaseBook();
      const producer = (publisher = new SteadyPublisher(
        ledger,
        async (key) => {
          const answer = await post<PublishReceipt>(fleet.pick(), '/work', { priority: 'normal', domain, payload: { key }, deadlineMs: ITEM_DEADLINE_MS });
          if (answer.status !== 201) throw Object.assign(new Error(JSON.stringify(answer.body)), { name: `HTTP ${answer.status}` });
          return answer.body;
        },
        { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: PUBLISH_IN_FLIGHT, keyPrefix: broker },
      ));
      for (let n = 0; n < WORKERS; n++) workers.push(new HttpWorker(fleet, { ...PLAN, domain }, random, ledger, book));

      // Act
      const publishing = producer.run();
      running.push(publishing, ...workers.map((worker) => worker.run()));
      await waitFor(() => ledger.summary().processed >= KILL_AFTER_PROCESSED && book.workedOnFrom(victim).length > 0 && book.relaysInFlightTo(victim).length > 0, {
        timeoutMs: KILL_TIMEOUT_MS,
        intervalMs: 2,
        description: `${KILL_AFTER_PROCESSED} items processed while a worker is on a lease of ${victim.name} and a settle is relayed to it`,
      });
      const relaysAtKill = book.relaysInFlightTo(victim).length;
      // Leases no settle was sent for yet: the victim cannot have settled these, so each must come back.
      const workedOnAtKill = book.workedOnFrom(victim).map((lease) => lease.item.payload.key);
      const killedAt = performance.now();
      const killed = await victim.kill9();
      await publishing;
      await waitFor(async () => ledger.outstanding().length === 0 && workers.every((worker) => worker.idle) && (await emptyEverywhere(fleet, domain, book.lastDeliveryAt)), {
        timeoutMs: DRAIN_TIMEOUT_MS,
        intervalMs: 200,
        description: 'every acknowledged item processed and the domain empty at every live instance',
      });
      const drainedAt = performance.now();
      for (const worker of workers) worker.stop();
      await Promise.all(running);
      const { body: deadLetters } = await get<{ items: DeadLetterView[] }>(fleet.pick(), `/dead-letters?domain=${domain}&limit=1000`);
      for (const letter of deadLetters.items) ledger.deadLetter(letter.item?.payload.key ?? 'malformed', letter.reason);

      // Assert
      // What the victim held at the kill: each lease it handed out (some reached their worker only after the kill) that no ack or retry settled; none can be settled after it.
      const heldAtKill = book.unsettledBy(victim).map((lease) => lease.item.payload.key);
      // And what its delay-ladder mover may have been moving (RabbitMQ): items a retry put in the ladder before the kill and not yet back.
      const inLadderAtKill = book.inLadderAt(killedAt).filter((key) => !heldAtKill.includes(key));
      const ladderCopies = ledger.duplicatedKeys().filter((key) => inLadderAtKill.includes(key));
      const redelivered = heldAtKill.filter((key) => book.leases.some((lease) => lease.item.payload.key === key && lease.holder !== victim));
      const backAfterMs = Math.max(0, ...book.leases.filter((lease) => lease.holder !== victim && heldAtKill.includes(lease.item.payload.key)).map((lease) => lease.at - killedAt));
      const sentToDeadHolder = book.settles.filter((record) => record.lease.holder === victim && record.sentAt > killedAt && !record.unreached);
      const { acknowledged, recovered } = ledger.summary();
      console.log(
        ledger.line(`fleet chaos (${broker}, kill -9 of 1 of ${INSTANCES} instances, ${WORKERS} HTTP workers)`, {
          seed,
          heldAtKill: heldAtKill.length,
          relaysAtKill,
          workedOnAtKill: workedOnAtKill.length,
          inLadderAtKill: inLadderAtKill.length,
          ladderCopies: ladderCopies.length,
          redelivered: redelivered.length,
          backAfterMs: Math.round(backAfterMs),
          settlesToDeadHolder: sentToDeadHolder.length,
          leases: book.leases.length,
          settles: book.settles.length,
          startMs: Math.round(listeningAt - startedAt),
          killAfterMs: Math.round(killedAt - listeningAt),
          drainMs: Math.round(drainedAt - killedAt),
        }),
      );
      expect(killed.signal).toBe('SIGKILL');
      expect(book.unexpected).toEqual([]);
      expect(ledger.summary()).toMatchObject({ lost: 0, unexpected: 0, deadLettered: 0 });
      expect(ledger.summary().processed).toBe(acknowledged + recovered);
      expect(workedOnAtKill.filter((key) => !redelivered.includes(key) || ledger.attemptsOf(key).length === 0)).toEqual([]);
      expect(ledger.duplicatedKeys().filter((key) => !heldAtKill.includes(key) && !inLadderAtKill.includes(key))).toEqual([]);
      expect(ledger.summary().duplicates).toBeLessThanOrEqual(heldAtKill.length + inLadderAtKill.length);
      // A move the victim did not finish leaves a second copy of the item: it repeats its attempt number (a redelivery would not).
      expect(ladderCopies.filter((key) => new Set(ledger.attemptsOf(key)).size === ledger.attemptsOf(key).length)).toEqual([]);
      // JetStream deduplicates the mover's republish (and retries this short are a delayed NAK): no copies there.
      if (broker === 'nats') expect(ladderCopies).toEqual([]);
      expect(sentToDeadHolder.length).toBeGreaterThan(0);
      expect(sentToDeadHolder.filter((record) => !refusedAsDead(record)).map((record) => `${record.op} ${record.lease.item.payload.key}: ${record.status} ${record.code}`)).toEqual([]);
      expect(book.leasedAfterAck200(new Set(ladderCopies))).toEqual([]);
    },
    CASE_TIMEOUT_MS,
  );
});
