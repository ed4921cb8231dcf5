import { LeaseExpiredError } from '@tps/kanban';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const PAYMENT = namespace.domain('payment');

const LEASE_MS = 2_000;

describe.each(TRANSPORTS)('fenced leases (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    // Lease = processing timeout 1 s + 1 s grace (NATS times its client lease 250 ms shorter).
    app = await createKanbanTestApp({ transport, options: { workerProcessTimeoutMs: 1_000 } });
  });
  afterAll(() => app.close());

  it("a stale worker's late ack does not settle the redelivered copy", async () => {
    // Arrange
    const { id } = await app.queue.publish({ priority: 'high', domain: PAYMENT, payload: { amount: 5 }, deadline: inFuture() });
    const [stale] = await app.queue.pull({ domain: PAYMENT, max: 1, waitMs: 5_000 });
    await sleep(LEASE_MS + 100);
    const [fresh] = await waitFor(() => app.queue.pull({ domain: PAYMENT, max: 1 }).then((d) => (d.length ? d : undefined)), { timeoutMs: 5_000, description: 'redelivery' });

    // Act
    const lateAck = app.queue.ack(id, PAYMENT, stale.lease);

    // Assert
    await expect(lateAck).rejects.toBeInstanceOf(LeaseExpiredError);
    expect(fresh).toMatchObject({ id, item: expect.objectContaining({ attempts: 2 }) });
    expect((await app.queue.depth())[0]).toMatchObject({ inFlight: 1 });
    await app.queue.ack(id, PAYMENT, fresh.lease);
    expect((await app.queue.depth())[0]).toMatchObject({ ready: 0, inFlight: 0 });
  });

  it('a stale nack cannot dead-letter the newer delivery either', async () => {
    const { id } = await app.queue.publish({ priority: 'high', domain: PAYMENT, payload: 2, deadline: inFuture() });
    const [stale] = await app.queue.pull({ domain: PAYMENT, max: 1, waitMs: 5_000 });
    await sleep(LEASE_MS + 100);
    // The lapsed item goes back through the broker (RabbitMQ requeues it): wait for it as a worker would.
    const [fresh] = await waitFor(() => app.queue.pull({ domain: PAYMENT, max: 1 }).then((d) => (d.length ? d : undefined)), { timeoutMs: 5_000, description: 'redelivery' });

    await expect(app.queue.nack(id, PAYMENT, stale.lease, 'too late')).rejects.toBeInstanceOf(LeaseExpiredError);

    await expect(app.queue.getDeadLetter(id)).rejects.toThrow(/No dead letter/);
    await app.queue.ack(id, PAYMENT, fresh.lease);
  });
});
