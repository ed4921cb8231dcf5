import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PublishReceipt } from '@tps/kanban';
import { chaosSeed, seededRandom } from '../chaos/support/seeded-random';
import { SteadyPublisher } from '../failover/support/steady-publisher';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor } from '../harness';
import { Ledger } from '../ledger/ledger';
import type { FleetServerConfig } from './fixtures/fleet-server';
import { Fleet, get, post } from './support/fleet-http';
import { FleetInstance } from './support/fleet-instance';
import { HttpWorker, type WorkerPlan } from './support/http-worker';
import { LeaseBook } from './support/lease-book';

const INSTANCES = 3;
const WORKERS = 8;
const ITEMS = 300;
const PUBLISH_RATE_PER_SECOND = 30;
const PUBLISH_IN_FLIGHT = 16;
/** The victim is killed once this many items were processed, while it holds leases and settles are being relayed to it. */
const KILL_AFTER_PROCESSED = 60;
const KILL_TIMEOUT_MS = 30_000;
/** Leases of the dead instance come back after their lease (NATS: the consumer's ack wait, about 4 s here). */
const DRAIN_TIMEOUT_MS = 40_000;
const ITEM_DEADLINE_MS = 600_000;

/**
 * A 1.5 s processing timeout gives 3 s leases, so the dead instance's items return quickly; the
 * stall limit (20 s) stays far above any lease the workers hold, so nothing is swept as stalled;
 * the coordinator samples depth every 500 ms (the drain reads it); every client is 127.0.0.1.
 */
const SERVER_ENV = {
  KANBAN_WORKER_PROCESS_TIMEOUT_MS: '5000',
  KANBAN_DEAD_LETTER_TIMEOUT_MS: '20000',
  KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '500',
  KANBAN_RATE_LIMIT_PER_SECOND: '100000',
};

const PLAN: Omit<WorkerPlan, 'domain'> = { pullMax: 4, pullWaitMs: 500, workMinMs: 5, workMaxMs: 40, retryShare: 0.1, retryDelayMs: 200, extendShare: 0.1 };

const BROKERS = {
  nats: (namespace: ReturnType<typeof testNamespace>) => ({ env: { KANBAN_NATS_SERVERS: natsBroker().url }, streamPrefix: namespace.streamPrefix }),
  rabbitmq: (namespace: ReturnType<typeof testNamespace>) => ({ env: { KANBAN_RABBITMQ_URL: rabbitmqBroker().url }, queuePrefix: namespace.queuePrefix }),
};

interface QueuesView {
  queues: { domain: string; ready: number; inFlight: number }[];
  sampledAt: number | null;
}

/** Every live instance's latest depth sample, taken after `since` (epoch ms), shows nothing ready or in flight for the domain. */
async function emptyEverywhere(fleet: Fleet, domain: string, since: number): Promise<boolean> {
  for (const instance of fleet.live()) {
    const { body } = await get<QueuesView>(instance, '/queues');
    if (body.sampledAt === null || body.sampledAt <= since) return false;
    if (body.queues.some((queue) => queue.domain === domain && (queue.ready > 0 || queue.inFlight > 0))) return false;
  }
  return true;
}

describe.each(Object.entries(BROKERS))('fleet chaos: kill -9 of one of three server instances under HTTP workers (%s)', (broker, brokerConfig) => {
  const instances: FleetInstance[] = [];
  const workers: HttpWorker[] = [];
  let dir: string;

  afterAll(async () => {
    (global as any).dbg?.();
    for (const worker of workers) worker.stop();
    await Promise.all(instances.map((instance) => instance.kill9()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('brings back what the dead instance held and processes it, loses no acknowledged publish, and never answers 200 for an item processed again', async () => {
    // Arrange
    const startedAt = performance.now();
    const seed = chaosSeed();
    const random = seededRandom(seed);
    const namespace = testNamespace();
    const domain = namespace.domain('fleet-chaos');
    dir = mkdtempSync(join(tmpdir(), 'kanban-fleet-chaos-'));
    for (let n = 0; n < INSTANCES; n++) {
      const config: FleetServerConfig = { ...brokerConfig(namespace), env: { ...brokerConfig(namespace).env, ...SERVER_ENV, KANBAN_EMBEDDED_PATH: join(dir, `instance-${n}.db`) } };
      instances.push(new FleetInstance(`instance-${n}`, config));
    }
    await Promise.all(instances.map((instance) => instance.listening()));
    const listeningAt = performance.now();
    const fleet = new Fleet(instances, random);
    const [victim] = instances;
    const ledger = new Ledger();
    const book = new LeaseBook();
    const publisher = new SteadyPublisher(
      ledger,
      async (key) => {
        const answer = await post<PublishReceipt>(fleet.pick(), '/work', { priority: 'normal', domain, payload: { key }, deadlineMs: ITEM_DEADLINE_MS });
        if (answer.status !== 201) throw Object.assign(new Error(JSON.stringify(answer.body)), { name: `HTTP ${answer.status}` });
        return answer.body;
      },
      { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: PUBLISH_IN_FLIGHT, keyPrefix: broker },
    );
    for (let n = 0; n < WORKERS; n++) workers.push(new HttpWorker(fleet, { ...PLAN, domain }, random, ledger, book));

    // Act
    const publishing = publisher.run();
    const working = Promise.all(workers.map((worker) => worker.run()));
    (global as any).dbg = () => require('fs').writeFileSync('/tmp/fleetchaos-debug.json', JSON.stringify({ dups: ledger.duplicatedKeys().map((key) => ({ key, leases: book.leases.filter((l) => l.item.payload.key === key).map((l) => ({ holder: l.holder.name, attempts: l.item.attempts, lease: l.item.lease.slice(0, 60) })), settles: book.settles.filter((r) => r.lease.item.payload.key === key).map((r) => ({ op: r.op, holder: r.lease.holder.name, via: r.via.name, attempts: r.lease.item.attempts, sentAt: Math.round(r.sentAt), answeredAt: r.answeredAt && Math.round(r.answeredAt), status: r.status, code: r.code, unreached: r.unreached })) })), stderr: instances.map((i) => i.stderr) }, null, 1));
    setInterval(() => process.stderr.write(`${JSON.stringify(ledger.summary())} ${book.leases.length} ${book.settles.length} ${book.workedOnFrom(victim).length} ${book.relaysInFlightTo(victim).length}\n`), 1000).unref();
    await waitFor(() => ledger.summary().processed >= KILL_AFTER_PROCESSED && book.workedOnFrom(victim).length > 0 && book.relaysInFlightTo(victim).length > 0, {
      timeoutMs: KILL_TIMEOUT_MS,
      intervalMs: 2,
      description: `${JSON.stringify(ledger.summary())} ${book.leases.length} ${book.settles.length} ${KILL_AFTER_PROCESSED} items processed while ${victim.name} holds leases a worker is on and settles are relayed to it`,
    });
    const relaysAtKill = book.relaysInFlightTo(victim).length;
    const killedAt = performance.now();
    const killed = await victim.kill9();
    await publishing;
    await waitFor(
      async () => ledger.outstanding().length === 0 && workers.every((worker) => worker.idle) && (await emptyEverywhere(fleet, domain, book.lastDeliveryAt)),
      { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 200, description: 'every acknowledged item processed and the domain empty at every live instance' },
    );
    const drainedAt = performance.now();
    for (const worker of workers) worker.stop();
    await working;
    const { body: deadLetters } = await get<{ items: { reason: string; item?: { payload: { key: string } } }[] }>(fleet.pick(), `/dead-letters?domain=${domain}&limit=1000`);
    for (const letter of deadLetters.items) ledger.deadLetter(letter.item?.payload.key ?? 'malformed', letter.reason);

    // Assert
    // What the victim held at the kill: every lease it handed out (some reached their worker only after the kill) that no ack or retry settled; nothing can settle one after the kill.
    const heldAtKill = book.unsettledBy(victim).map((lease) => lease.item.payload.key);
    const toDeadHolder = book.settles.filter((record) => record.lease.holder === victim && record.answeredAt !== undefined && record.answeredAt > killedAt && !record.unreached);
    const sentAfterKill = toDeadHolder.filter((record) => record.sentAt > killedAt);
    const refusedAsExpected = (status?: number, code?: string): boolean => status === 409 || (status === 503 && code === 'broker_unavailable');
    const redelivered = heldAtKill.filter((key) => ledger.attemptsOf(key).length > 0 && book.leases.some((lease) => lease.item.payload.key === key && lease.holder !== victim));
    console.log(
      ledger.line(`fleet chaos (${broker}, kill -9 of 1 of ${INSTANCES} instances, ${WORKERS} HTTP workers)`, {
        seed,
        heldAtKill: heldAtKill.length,
        relaysAtKill,
        redelivered: redelivered.length,
        settlesToDeadHolder: toDeadHolder.length,
        refusedAfterKill: sentAfterKill.filter((record) => refusedAsExpected(record.status, record.code)).length,
        leases: book.leases.length,
        relayed: book.settles.length,
        startMs: Math.round(listeningAt - startedAt),
        killAfterMs: Math.round(killedAt - listeningAt),
        drainMs: Math.round(drainedAt - killedAt),
      }),
    );
    require('fs').writeFileSync('/tmp/fleetchaos-debug.json', JSON.stringify({ killedAt, heldAtKill, dups: ledger.duplicatedKeys().map((key) => ({ key, leases: book.leases.filter((l) => l.item.payload.key === key).map((l) => ({ holder: l.holder.name, attempts: l.item.attempts, lease: l.item.lease.slice(0, 60) })), settles: book.settles.filter((r) => r.lease.item.payload.key === key).map((r) => ({ op: r.op, holder: r.lease.holder.name, via: r.via.name, attempts: r.lease.item.attempts, sentAt: Math.round(r.sentAt - killedAt), answeredAt: r.answeredAt && Math.round(r.answeredAt - killedAt), status: r.status, code: r.code, unreached: r.unreached })) })), stderr: instances.map((i) => i.stderr) }, null, 1));
    expect(killed.signal).toBe('SIGKILL');
    expect(book.unexpected).toEqual([]);
    expect(ledger.summary()).toMatchObject({ lost: 0, unexpected: 0, deadLettered: 0, acknowledgedDeadLettered: 0 });
    expect(ledger.summary().processed).toBe(ledger.summary().acknowledged + ledger.summary().recovered);
    expect(ledger.duplicatedKeys().filter((key) => !heldAtKill.includes(key))).toEqual([]);
    expect(ledger.summary().duplicates).toBeLessThanOrEqual(heldAtKill.length);
    expect(sentAfterKill.length).toBeGreaterThan(0);
    expect(sentAfterKill.filter((record) => !refusedAsExpected(record.status, record.code)).map((record) => `${record.op} ${record.lease.item.payload.key}: ${record.status}`)).toEqual([]);
    expect({ processedAfterAck200: book.processedAfterAck200(), ackedTwice: book.ackedTwice() }).toEqual({ processedAfterAck200: [], ackedTwice: [] });
  }, 120_000);
});
