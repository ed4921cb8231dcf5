import { DeadLetterNotFoundError, REPLAYED_FROM_HEADER } from '@tps/kanban';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const DOMAIN = namespace.domain('replays');
const LETTERS = 5;
const OPTIONS = { startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 };

describe.each(TRANSPORTS)('replaying one dead letter from two instances at once (%s)', (transport) => {
  let first: KanbanTestApp;
  let second: KanbanTestApp;

  beforeAll(async () => {
    first = await createKanbanTestApp({ transport, options: OPTIONS });
    // The embedded store admits one process per file: there the second caller is the same app.
    second = transport === 'embedded' ? first : await createKanbanTestApp({ transport, options: OPTIONS });
  });
  afterAll(async () => {
    if (second !== first) await second?.close();
    await first?.close();
  });

  it('publishes one item per letter, and both answer with its id or with not found', async () => {
    const ids: string[] = [];
    for (let n = 0; n < LETTERS; n++) {
      const { id } = await first.queue.publish({ priority: 'normal', domain: DOMAIN, payload: { n }, deadline: inFuture() });
      const [delivery] = await first.queue.pull({ domain: DOMAIN, priority: 'normal', max: 1, waitMs: 2_000 });
      await first.queue.nack(delivery.item.id, DOMAIN, delivery.lease, 'try again');
      ids.push(id);
    }

    const outcomes = await Promise.all(ids.map((id) => Promise.allSettled([first.queue.replayDeadLetter(id), second.queue.replayDeadLetter(id)])));
    const replayed = [];
    for (let round = 0; round < 10 && replayed.length < LETTERS; round++) {
      const pulled = await first.queue.pull({ domain: DOMAIN, priority: 'normal', max: 100, waitMs: 500 });
      replayed.push(...pulled);
    }
    const extra = await first.queue.pull({ domain: DOMAIN, priority: 'normal', max: 100, waitMs: 500 });

    expect(replayed.map((d) => d.item.headers[REPLAYED_FROM_HEADER]).sort()).toEqual([...ids].sort());
    expect(extra).toEqual([]);
    for (const [n, pair] of outcomes.entries()) {
      const receipts = pair.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.id] : []));
      const refusals = pair.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      const published = replayed.find((d) => d.item.headers[REPLAYED_FROM_HEADER] === ids[n]);
      expect(new Set(receipts)).toEqual(new Set([published?.id]));
      for (const refusal of refusals) expect(refusal).toBeInstanceOf(DeadLetterNotFoundError);
    }
    expect((await second.queue.listDeadLetters({ domain: DOMAIN })).items).toEqual([]);
  });
});
