import { LeaseExpiredError } from '@tps/kanban';
import { ChildApp } from '../chaos/support/child-app';
import { natsBroker, waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';
import type { LeaseHolderConfig } from './fixtures/lease-holder';

/** ChildApp runs fixtures of test/chaos/fixtures; this one lives with the fleet tests. */
const LEASE_HOLDER_FIXTURE = '../../fleet/fixtures/lease-holder.ts';

describe('a settle relayed to a frozen holder', () => {
  let holder: ChildApp;
  let b: KanbanTestApp;

  afterEach(async () => {
    await holder?.kill9();
    await b?.close();
  });

  it('is refused as a lapsed lease when the holder does not answer in time, and the item comes back', async () => {
    // Arrange: the holder (its own process) pulls the item, then freezes.
    const domain = namespace.domain('fleet-frozen');
    const config: LeaseHolderConfig = { natsUrl: natsBroker().url, streamPrefix: namespace.streamPrefix, domain };
    holder = new ChildApp(LEASE_HOLDER_FIXTURE, config);
    await holder.waitForLine('ready', 30_000);
    b = await createKanbanTestApp({ transport: 'nats', options: { workerProcessTimeoutMs: 1_000, retryBackoffMs: [500], coordinatorCheckIntervalMs: 600_000, autoscale: false } });
    const { id } = await b.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    holder.send('pull');
    await holder.waitForLine('pulled', 10_000);
    const [, pulledId, lease] = holder.linesOf('pulled')[0];
    holder.signal('SIGSTOP');

    // Act
    const ack = await b.queue.ack(id, domain, lease).then(
      () => 'settled',
      (error: unknown) => (error instanceof LeaseExpiredError ? 'LeaseExpiredError' : String(error)),
    );
    const [again] = await waitFor(
      async () => {
        const pulled = await b.queue.pull({ domain, max: 1, waitMs: 500 });
        return pulled.length > 0 ? pulled : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 10, description: "the frozen holder's item redelivered" },
    );
    holder.signal('SIGCONT');
    await b.queue.ack(again.id, domain, again.lease);

    // Assert
    expect({ pulledId, ack, again: again.id, attempts: again.item.attempts }).toEqual({ pulledId: id, ack: 'LeaseExpiredError', again: id, attempts: 2 });
    expect(await b.queue.pull({ domain, max: 1, waitMs: 500 })).toEqual([]);
  });
});
