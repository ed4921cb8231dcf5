import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { EmbeddedTransport, NatsTransport, RabbitMqTransport, resolveKanbanOptions, transportSettingsFrom, type KanbanTransport } from '../../libs/kanban/src';
import { makeItem } from '../contract/contract-helpers';
import { CHAOS_MODULE_OPTIONS } from '../failover/support/chaos-options';
import { ACK_IN_FLIGHT_WINDOW_MS } from '../failover/support/duplicates';
import { deleteNatsStreams, purgeNamespace } from '../failover/support/purge-namespace';
import { allDeadLetters, natsBroker, rabbitmqBroker, testNamespace, waitFor, type TestNamespace } from '../harness';
import { Ledger } from '../ledger/ledger';
import { ChildApp } from './support/child-app';
import { busyRows, recordDeadLetters } from './support/queue-drain';
import { type DeadLetterServerConfig, type DeadLetterServerMode, type DeadLetterServerTransport } from './fixtures/dead-letter-server';

const ITEMS = 300;
/** The server dying while dead-lettering: once this many are dead-lettered and more are under way. */
const KILL_AFTER_DEAD = 100;
/** The server dying while replaying: once this many are replayed and more are under way. */
const KILL_AFTER_REPLAYED = 100;
const REPLAY_CONCURRENCY = 10;
const START_TIMEOUT_MS = 30_000;
const KILL_POINT_TIMEOUT_MS = 60_000;
/** A phase after a kill: what the dead server held comes back (4 s leases, at once on the embedded store) and is worked off. */
const PHASE_TIMEOUT_MS = 90_000;

const settings = transportSettingsFrom(resolveKanbanOptions(CHAOS_MODULE_OPTIONS));

interface Where {
  /** Dead letters of the domain (records, not keys). */
  deadLetters: number;
  /** Distinct keys among them. */
  deadLetterKeys: number;
  /** Items in the domain's work queues, ready or in flight. */
  queued: number;
}

/** The server is killed, never the brokers: any broker of the run will do. */
const SETUPS: Array<{ transport: DeadLetterServerTransport }> = [{ transport: 'nats' }, { transport: 'embedded' }, { transport: 'rabbitmq' }];

describe.each(SETUPS)('chaos: kill -9 of the server while it dead-letters and while it replays ($transport)', ({ transport }) => {
  // The observers' connect and topology lines drown the report; warnings and errors still show.
  beforeAll(() => Logger.overrideLogger(['warn', 'error']));

  it('every item stays in the work queue or the dead-letter queue, never in neither; all of it is processed in the end', async () => {
    // Arrange
    const namespace = testNamespace();
    const domain = namespace.domain('dlkill');
    const dir = mkdtempSync(join(tmpdir(), 'kanban-chaos-dl-'));
    const ledger = new Ledger();
    const children: ChildApp[] = [];
    const config = (mode: DeadLetterServerMode): DeadLetterServerConfig => ({
      transport,
      natsUrl: transport === 'nats' ? natsBroker().url : undefined,
      streamPrefix: namespace.streamPrefix,
      rabbitmqUrl: transport === 'rabbitmq' ? rabbitmqBroker().url : undefined,
      queuePrefix: namespace.queuePrefix,
      dbPath: join(dir, 'kanban.db'),
      domain,
      mode,
      replayConcurrency: REPLAY_CONCURRENCY,
    });
    const start = async (mode: DeadLetterServerMode): Promise<ChildApp> => {
      const child = new ChildApp('dead-letter-server.ts', config(mode), ([kind, key, attempt]) => {
        if (kind === 'processed') ledger.process(key, Number(attempt));
      });
      children.push(child);
      await child.waitForLine('ready', START_TIMEOUT_MS);
      return child;
    };
    /** Reads the broker (or store file) while no server runs: the embedded store wants one owner at a time. */
    const observe = async <T>(read: (observer: KanbanTransport) => Promise<T>): Promise<T> => {
      const observer = observerFor(transport, namespace, join(dir, 'kanban.db'));
      try {
        await observer.connect();
        await observer.ensureQueue('normal', domain);
        return await read(observer);
      } finally {
        await observer.close();
      }
    };
    const where = (observer: KanbanTransport): Promise<Where> => whereItemsAre(observer, domain);
    /** Waits for a `depth` line from the server reporting an empty work queue and `deadLetters` dead letters at least, after `since` lines. */
    const queueEmptied = (child: ChildApp, deadLetters: number, since: number) =>
      waitFor(() => child.lines.slice(since).some(([kind, ready, inFlight, letters]) => kind === 'depth' && ready === '0' && inFlight === '0' && Number(letters) >= deadLetters), {
        timeoutMs: PHASE_TIMEOUT_MS,
        intervalMs: 100,
        description: `the ${transport} work queue of ${domain} empty with ${deadLetters}+ dead letters (last: ${child.linesOf('depth').at(-1)?.join(' ')})`,
      });

    try {
      await observe(async (observer) => {
        for (let n = 0; n < ITEMS; n++) {
          const key = `dl-${n}`;
          ledger.attempt(key);
          ledger.acknowledge(key, (await observer.publish(makeItem({ domain, payload: { key }, deadlineMs: 600_000 }))).broker);
        }
      });

      // Act 1: kill -9 while the handlers reject and the workers dead-letter.
      const nacking = await start('nack');
      await waitFor(() => nacking.count('dead') >= KILL_AFTER_DEAD && nacking.count('started') > nacking.count('dead'), {
        timeoutMs: KILL_POINT_TIMEOUT_MS,
        intervalMs: 2,
        description: `${KILL_AFTER_DEAD} dead-lettered and more under way`,
      });
      const firstKillAt = performance.now();
      await nacking.kill9();
      const movingAtKill = nacking.count('started') - nacking.count('dead');
      // RabbitMQ's basic.ack is not confirmed: a move that resolved (record confirmed, ack sent) just
      // before the kill may still have its original on the queue. NATS (+TERM) and the embedded store confirm.
      const deadLetteredJustBefore = transport === 'rabbitmq' ? nacking.countWithin('dead', firstKillAt, ACK_IN_FLIGHT_WINDOW_MS) : 0;
      const deadLetteringAtKill = movingAtKill + deadLetteredJustBefore;
      const afterFirstKill = await observe(where);
      // The rest is dead-lettered by the next start; what the dead server held comes back first.
      const finishing = await start('nack');
      await queueEmptied(finishing, ITEMS, 0);
      await finishing.terminate();
      const seen = new Set<string>();
      const afterDeadLettering = await observe(async (observer) => {
        await recordDeadLetters(observer, domain, ledger, seen);
        return where(observer);
      });

      // Act 2: kill -9 while replaying the dead letters.
      const replaying = await start('replay');
      await waitFor(() => replaying.count('replayed') >= KILL_AFTER_REPLAYED && replaying.count('replaying') > replaying.count('replayed'), {
        timeoutMs: KILL_POINT_TIMEOUT_MS,
        intervalMs: 2,
        description: `${KILL_AFTER_REPLAYED} replayed and more under way`,
      });
      await replaying.kill9();
      const replayingAtKill = replaying.count('replaying') - replaying.count('replayed');
      const afterSecondKill = await observe(where);
      // The next start replays what is left and processes everything.
      const last = await start('finish');
      await waitFor(() => ledger.summary().processed >= ITEMS, { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 100, description: `all ${ITEMS} keys processed (${ledger.line('ledger')})` });
      await last.waitForLine('replay-done', PHASE_TIMEOUT_MS);
      const linesBeforeEmpty = last.lines.length;
      await waitFor(() => last.lines.slice(linesBeforeEmpty).some(([kind, ready, inFlight, letters]) => kind === 'depth' && ready === '0' && inFlight === '0' && letters === '0'), {
        timeoutMs: PHASE_TIMEOUT_MS,
        intervalMs: 100,
        description: 'work queue and dead letters of the domain empty',
      });
      const exit = await last.terminate();
      const atEnd = await observe(async (observer) => ({ where: await where(observer), busy: await busyRows(observer, domain) }));

      // Assert
      const inFlightAtFault = deadLetteringAtKill + replayingAtKill;
      const summary = ledger.summary();
      console.log(
        ledger.line(`chaos server kill -9 while dead-lettering and replaying (${transport})`, {
          inFlightAtFault,
          movingAtKill,
          deadLetteredJustBefore,
          replayingAtKill,
          afterFirstKill: `dl=${afterFirstKill.deadLetters}+queue=${afterFirstKill.queued}`,
          deadLetterRecords: afterDeadLettering.deadLetters,
          afterSecondKill: `dl=${afterSecondKill.deadLetters}+queue=${afterSecondKill.queued}`,
        }),
      );
      // Never in neither: right after each kill every item is in one place or both.
      expect(afterFirstKill.deadLetters + afterFirstKill.queued).toBeGreaterThanOrEqual(ITEMS);
      expect(afterSecondKill.deadLetters + afterSecondKill.queued).toBeGreaterThanOrEqual(ITEMS);
      // Both places at once only for what was being moved at the kill.
      expect(afterFirstKill.deadLetters + afterFirstKill.queued - ITEMS).toBeLessThanOrEqual(deadLetteringAtKill);
      expect(afterSecondKill.deadLetters + afterSecondKill.queued - ITEMS).toBeLessThanOrEqual(replayingAtKill);
      expect(afterDeadLettering).toMatchObject({ deadLetterKeys: ITEMS, queued: 0 });
      expect(afterDeadLettering.deadLetters - ITEMS).toBeLessThanOrEqual(deadLetteringAtKill);
      expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, deadLettered: ITEMS, lost: 0, unexpected: 0 });
      expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(atEnd).toEqual({ where: { deadLetters: 0, deadLetterKeys: 0, queued: 0 }, busy: [] });
    } finally {
      await Promise.all(children.map((child) => child.kill9()));
      if (transport === 'nats') await deleteNatsStreams(namespace);
      if (transport === 'rabbitmq') await purgeRabbitMq(namespace, domain);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

function observerFor(transport: DeadLetterServerTransport, namespace: TestNamespace, dbPath: string): KanbanTransport {
  if (transport === 'nats') return new NatsTransport({ servers: [natsBroker().url], streamPrefix: namespace.streamPrefix }, settings);
  if (transport === 'rabbitmq') return new RabbitMqTransport({ url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix }, settings);
  return new EmbeddedTransport({ path: dbPath }, settings);
}

async function whereItemsAre(observer: KanbanTransport, domain: string): Promise<Where> {
  const letters = await allDeadLetters(observer, { domain });
  const keys = new Set(letters.map((letter) => (letter.item?.payload as { key?: string } | undefined)?.key));
  const rows = (await observer.depth()).filter((row) => row.domain === domain);
  return { deadLetters: letters.length, deadLetterKeys: keys.size, queued: rows.reduce((sum, row) => sum + row.ready + row.inFlight, 0) };
}

/** purgeNamespace deletes NATS streams too: only when NATS is there. */
async function purgeRabbitMq(namespace: TestNamespace, domain: string): Promise<void> {
  await purgeNamespace(namespace, [domain]).catch(() => undefined);
}
