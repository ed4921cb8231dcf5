import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsBroker, waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const DOMAIN = namespace.domain('batch');
const SHORT_DEADLINE_MS = 300;

/** Makes every dead-lettering fail from now on: the dead-letter stream is gone (a broker-side fault, not a stand-in). */
async function removeDeadLetterStream(): Promise<void> {
  const nc = await connect({ servers: natsBroker().url });
  try {
    await (await jetstreamManager(nc)).streams.delete(`${namespace.streamPrefix}_DLQ`);
  } finally {
    await nc.close();
  }
}

describe('a pull whose dead-lettering fails for one delivery', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({ transport: 'nats', options: { startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 } });
  });
  afterAll(() => app.close());

  it('still hands out the rest of the batch, and the failed one stays leased for redelivery', async () => {
    const shortDeadline = Date.now() + SHORT_DEADLINE_MS;
    await app.queue.publish({ priority: 'normal', domain: DOMAIN, payload: 'expires', deadline: shortDeadline });
    const good = await app.queue.publish({ priority: 'normal', domain: DOMAIN, payload: 'good', deadline: inFuture() });
    await waitFor(async () => Date.now() > shortDeadline, { timeoutMs: 5_000, description: 'the short deadline to pass' });
    await removeDeadLetterStream();

    const pulled = await app.queue.pull({ domain: DOMAIN, priority: 'normal', max: 10, waitMs: 1_000 });

    expect(pulled.map((delivery) => delivery.id)).toEqual([good.id]);
    const [row] = (await app.queue.depth()).filter((depth) => depth.domain === DOMAIN && depth.priority === 'normal');
    expect(row).toMatchObject({ ready: 0, inFlight: 2 });
  });
});
