import { KanbanValidationError, QueueFullError } from '@tps/kanban';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const LIMITS = namespace.domain('limits');
const FULL = namespace.domain('full');

describe.each(TRANSPORTS)('validation through the library (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({ transport, options: { maxPayloadBytes: 1024, maxQueueDepth: 3 } });
  });
  afterAll(() => app.close());

  const fieldsOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KanbanValidationError);
    return (error as KanbanValidationError).errors.map((e) => e.field);
  };

  it('lists every offending field at once', async () => {
    const fields = await fieldsOf(
      app.queue.publish({ priority: 'urgent' as never, domain: 'A.B', payload: undefined, deadline: Date.now() - 1, idempotencyKey: 'has space', headers: { 'bad name': 'x' } }),
    );
    expect(fields).toEqual(['priority', 'domain', 'payload', 'deadline', 'idempotencyKey', 'headers.bad name']);
  });

  it.each(['a.b', '*', '>', 'has space', 'x\r\nPUB kanban.high.payment 1', '$JS.API.STREAM', '', 'a'.repeat(64), 'paiement-é', 'Upper'])(
    'rejects the domain %j before any broker call',
    async (domain) => {
      expect(await fieldsOf(app.queue.publish({ priority: 'high', domain, payload: 1, deadline: inFuture() }))).toEqual(['domain']);
      expect(await app.queue.depth()).toEqual([]);
    },
  );

  it('accepts a payload exactly at the limit and rejects one byte over', async () => {
    const atLimit = 'x'.repeat(1024 - 2);
    await expect(app.queue.publish({ priority: 'low', domain: LIMITS, payload: atLimit, deadline: inFuture() })).resolves.toMatchObject({ broker: app.kind });
    expect(await fieldsOf(app.queue.publish({ priority: 'low', domain: LIMITS, payload: `${atLimit}x`, deadline: inFuture() }))).toEqual(['payload']);
  });

  it('rejects deadline and deadlineMs together, and neither', async () => {
    expect(await fieldsOf(app.queue.publish({ priority: 'low', domain: LIMITS, payload: 1, deadline: inFuture(), deadlineMs: 10 }))).toEqual(['deadline']);
    expect(await fieldsOf(app.queue.publish({ priority: 'low', domain: LIMITS, payload: 1 }))).toEqual(['deadline']);
    expect(await fieldsOf(app.queue.publish({ priority: 'low', domain: LIMITS, payload: 1, deadlineMs: 1.5 }))).toEqual(['deadlineMs']);
  });

  it('rejects pulls and settles with bad arguments', async () => {
    expect(await fieldsOf(app.queue.pull({ domain: 'no.dots', priority: 'urgent' as never, max: 0 }))).toEqual(['domain', 'priority', 'max']);
    expect(await fieldsOf(app.queue.ack('id', LIMITS, 'not-a-lease'))).toEqual(['lease']);
  });

  it('throws QueueFullError above maxQueueDepth and stores nothing more', async () => {
    for (let i = 0; i < 3; i++) await app.queue.publish({ priority: 'normal', domain: FULL, payload: i, deadline: inFuture() });
    await expect(app.queue.publish({ priority: 'normal', domain: FULL, payload: 4, deadline: inFuture() })).rejects.toBeInstanceOf(QueueFullError);
    const depth = (await app.queue.depth()).find((q) => q.domain === FULL);
    expect(depth?.ready).toBe(3);
  });
});
