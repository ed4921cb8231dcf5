import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { jetstream } from '@nats-io/jetstream';
import { encodeItem } from '../../libs/kanban/src/codec';
import { DeadLetterNotFoundError } from '../../libs/kanban/src/errors';
import type { DeadLetter, WorkItem } from '../../libs/kanban/src/interfaces';
import { replayIdempotencyKey, type KanbanTransport } from '../../libs/kanban/src/transport';
import type { EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { EMBEDDED_DEAD_LETTERS_TABLE } from '../../libs/kanban/src/transports/embedded/embedded-schema';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { NatsNames } from '../../libs/kanban/src/transports/nats/nats-names';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { deadLetterRecord } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-dead-letter-record';
import { contractSettings, expectDepth, makeItem } from '../contract/contract-helpers';
import type { ContractHarness } from '../contract/transport-contract';
import { createEmbeddedHarness, type EmbeddedHarness } from '../embedded/embedded-harness';
import { createNatsHarness, type NatsHarness } from '../nats/nats-harness';
import { createRabbitMqHarness, type RabbitMqHarness } from '../rabbitmq/rabbitmq-test-harness';

const LETTERS = 100_000;
const PAGE = 1_000;
/** Letters the second instance replays, and as many more it purges, while the first lists. */
const TOUCHED = 100;
/** Writes in flight at once while seeding. */
const SEED_WINDOW = 500;
const DOMAIN = 'orders';
const SCALE_TIMEOUT_MS = 240_000;

interface Scenario {
  harness: ContractHarness;
  /** Stores `letters` the way the transport itself stores dead letters, oldest first, without moving items through the queue. */
  seed(transport: KanbanTransport, letters: DeadLetter[]): Promise<void>;
  dispose?(): Promise<void>;
}

function embeddedScenario(): Scenario {
  const harness: EmbeddedHarness = createEmbeddedHarness();
  return {
    harness,
    async seed(transport, letters) {
      const db = new Database(harness.pathOf(transport as EmbeddedTransport));
      try {
        const insert = db.prepare(`INSERT INTO ${EMBEDDED_DEAD_LETTERS_TABLE} (id, priority, domain, body, reason, error, attempts, dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
        db.transaction(() => {
          for (const l of letters) insert.run(l.id, l.priority, l.domain, encodeItem(l.item as WorkItem), l.reason, l.error ?? null, l.attempts, l.deadLetteredAt);
        })();
      } finally {
        db.close();
      }
    },
  };
}

function natsScenario(): Scenario {
  const harness: NatsHarness = createNatsHarness();
  return {
    harness,
    async seed(transport, letters) {
      const names = new NatsNames(harness.prefixOf(transport as NatsTransport));
      const js = jetstream(await harness.rawClient());
      await inWindows(letters, (l) => js.publish(names.deadLetterSubject(l.domain, l.id), JSON.stringify(l), { msgID: `seed:${l.id}` }));
    },
  };
}

function rabbitMqScenario(): Scenario {
  const harness: RabbitMqHarness = createRabbitMqHarness();
  return {
    harness,
    async seed(transport, letters) {
      const log = harness.namesOf(transport as RabbitMqTransport).deadLetterLog;
      const channel = await (await harness.admin()).createConfirmChannel();
      try {
        for (let start = 0; start < letters.length; start += SEED_WINDOW) {
          for (const l of letters.slice(start, start + SEED_WINDOW)) {
            const item = l.item as WorkItem;
            const record = deadLetterRecord({ id: l.id, priority: l.priority, domain: l.domain, body: encodeItem(item), malformed: false }, l.reason, l.error, l.attempts, l.deadLetteredAt);
            channel.sendToQueue(log, record.body, { persistent: true, messageId: record.messageId, headers: record.headers });
          }
          await channel.waitForConfirms();
        }
      } finally {
        await channel.close();
      }
    },
    dispose: () => harness.dispose(),
  };
}

/** Writes every value with at most SEED_WINDOW writes in flight, the next starting as soon as one is confirmed. */
async function inWindows<T>(values: T[], write: (value: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < values.length) await write(values[next++]);
  };
  await Promise.all(Array.from({ length: SEED_WINDOW }, lane));
}

function lettersToSeed(): DeadLetter[] {
  const now = Date.now();
  return Array.from({ length: LETTERS }, (_, n) => {
    const item = makeItem({ domain: DOMAIN, payload: { n } });
    return { id: item.id, priority: item.priority, domain: DOMAIN, item: { ...item, attempts: 1 }, reason: 'nack', error: 'seeded', attempts: 1, deadLetteredAt: now, broker: 'embedded' };
  });
}

async function listAll(transport: KanbanTransport): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await transport.listDeadLetters({ limit: PAGE, cursor });
    for (const letter of page.items) ids.push(letter.id);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

const SCENARIOS: Array<[string, () => Scenario]> = [
  ['embedded', embeddedScenario],
  ['nats', natsScenario],
  ['rabbitmq', rabbitMqScenario],
];

describe.each(SCENARIOS)('100,000 dead letters on %s', (name, build) => {
  const scenario = build();
  afterEach(() => scenario.harness.cleanup());
  afterAll(() => scenario.dispose?.());

  it(
    'lists them all by cursor at one instance while another fetches, replays and purges some',
    async () => {
      const settings = contractSettings({ maxQueueDepth: LETTERS });
      const lister = await scenario.harness.create(settings);
      // The embedded store admits one process per file: there the other caller is the same transport.
      const other = scenario.harness.peer ? await scenario.harness.peer(lister, settings) : lister;
      await other.ensureQueue('normal', DOMAIN);
      const letters = lettersToSeed();
      const seedStarted = performance.now();
      await scenario.seed(lister, letters);
      const seedMs = performance.now() - seedStarted;
      const ids = letters.map((l) => l.id);
      const replayed = ids.filter((_, n) => n % 1_000 === 7).slice(0, TOUCHED);
      const purged = ids.filter((_, n) => n % 1_000 === 501).slice(0, TOUCHED);
      const touched = new Set([...replayed, ...purged]);
      const rebuild = async (letter: DeadLetter) => makeItem({ domain: DOMAIN, payload: letter.item?.payload, idempotencyKey: replayIdempotencyKey(letter.id) });

      const started = performance.now();
      let listMs = 0;
      const [listed, fetched] = await Promise.all([
        listAll(lister).finally(() => (listMs = performance.now() - started)),
        (async () => {
          const got: string[] = [];
          for (const [n, id] of replayed.entries()) {
            got.push((await other.getDeadLetter(id)).id);
            await other.replayDeadLetter(id, rebuild);
            await other.deleteDeadLetter(purged[n]);
          }
          return got;
        })(),
      ]);
      const bothMs = performance.now() - started;
      const relisted = await listAll(other);

      process.stdout.write(
        `[dead letters at scale] ${name}: seeded ${LETTERS} in ${Math.round(seedMs)} ms; listed by ${PAGE} in ${Math.round(listMs)} ms while another instance fetched, replayed and purged ${TOUCHED} each (${Math.round(bothMs)} ms for those)\n`,
      );
      expect(new Set(listed).size).toBe(listed.length);
      expect(listed.filter((id) => !touched.has(id))).toEqual(ids.filter((id) => !touched.has(id)));
      expect(fetched).toEqual(replayed);
      expect(relisted).toEqual(ids.filter((id) => !touched.has(id)));
      await expectDepth(other, 'normal', DOMAIN, { ready: TOUCHED, inFlight: 0 });
      await expect(lister.getDeadLetter(replayed[0])).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    },
    SCALE_TIMEOUT_MS,
  );
});
