import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp, type TransportKind } from '../library/support/kanban-test-app';

const BROKERS: TransportKind[] = ['nats', 'rabbitmq'];

/** With maxAttempts 1 the first delivery is the last: a retry of it at any instance dead-letters it. */
describe.each(BROKERS)('a retry relayed to the holder follows the retry rule (%s)', (transport) => {
  let a: KanbanTestApp;
  let b: KanbanTestApp;

  beforeAll(async () => {
    const options = { maxAttempts: 1, coordinatorCheckIntervalMs: 600_000, autoscale: false };
    a = await createKanbanTestApp({ transport, options });
    b = await createKanbanTestApp({ transport, options });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('dead-letters as max_attempts with the error given at B when A holds the last attempt', async () => {
    // Arrange
    const domain = namespace.domain(`relayed-retry-${transport}`);
    const { id } = await a.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    const [delivery] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });

    // Act
    const outcome = await b.queue.retry(id, domain, delivery.lease, 0, 'card network down');

    // Assert
    expect(outcome).toMatchObject({ status: 'dead_lettered', deadLetter: { id, reason: 'max_attempts', error: 'card network down', attempts: 1 } });
    expect(await a.queue.getDeadLetter(id)).toMatchObject({ reason: 'max_attempts', error: 'card network down' });
    expect(await a.queue.pull({ domain, max: 1, waitMs: 500 })).toEqual([]);
  });
});
