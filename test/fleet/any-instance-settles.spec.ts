import { randomBytes } from 'node:crypto';
import { LeaseExpiredError, type Delivery, type KanbanModuleOptions } from '@tps/kanban';
import { rabbitmqBroker, startPrivateNatsServer, waitFor, type PrivateNatsServer } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';

/** A 1 s processing timeout gives 2 s leases: a lapse is waited out once per test, not more. */
const FLEET_OPTIONS: KanbanModuleOptions = { workerProcessTimeoutMs: 1_000, coordinatorCheckIntervalMs: 600_000, autoscale: false };

const FLEETS = {
  nats: { transport: 'nats', options: FLEET_OPTIONS },
  rabbitmq: { transport: 'rabbitmq', options: FLEET_OPTIONS },
  failover: { transport: 'nats', options: (): KanbanModuleOptions => ({ ...FLEET_OPTIONS, rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix } }) },
} as const;

/** A lease handle is `{priority}.{publishedAt}.{holder}.{transport lease}`. */
function leaseParts(lease: string): { head: string; holder: string; transport: string } {
  const [priority, publishedAt, holder, ...rest] = lease.split('.');
  return { head: `${priority}.${publishedAt}`, holder, transport: rest.join('.') };
}

function withHolder(lease: string, holder: string): string {
  const parts = leaseParts(lease);
  return `${parts.head}.${holder}.${parts.transport}`;
}

/** The transport lease with its last character changed: a lease nobody handed out. */
function withEditedTransportPart(lease: string): string {
  return `${lease.slice(0, -1)}${lease.endsWith('1') ? '2' : '1'}`;
}

/** The client-side expiry a NATS lease once carried (`…|{epoch ms}`), pushed far out, or appended: the forgery. */
function withFarExpiry(lease: string): string {
  return /\|\d+$/.test(lease) ? lease.replace(/\|\d+$/, '|9999999999999') : `${lease}|9999999999999`;
}

async function outcome(settle: Promise<unknown>): Promise<string> {
  return settle.then(
    () => 'settled',
    (error: unknown) => (error instanceof LeaseExpiredError ? 'LeaseExpiredError' : `${(error as Error).name}: ${(error as Error).message}`),
  );
}

/** Pulls until one instance gets the item (a RabbitMQ redelivery goes to whichever consumer has room), trying `first` first. */
async function pullAnywhere(apps: KanbanTestApp[], domain: string, id: string): Promise<{ app: KanbanTestApp; delivery: Delivery }> {
  return waitFor(
    async () => {
      for (const app of apps) {
        const [delivery] = await app.queue.pull({ domain, max: 1, waitMs: 200 });
        if (delivery) {
          if (delivery.id !== id) throw new Error(`pulled ${delivery.id}, expected ${id}`);
          return { app, delivery };
        }
      }
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 10, description: `item ${id} redelivered` },
  );
}

async function nothingLeft(apps: KanbanTestApp[], domain: string): Promise<boolean> {
  for (const app of apps) if ((await app.queue.pull({ domain, max: 10, waitMs: 300 })).length > 0) return false;
  const depth = (await apps[0].queue.depth()).filter((row) => row.domain === domain);
  return depth.every((row) => row.ready === 0 && row.inFlight === 0);
}

describe.each(Object.entries(FLEETS))('any instance settles any lease (%s)', (_name, fleet) => {
  let a: KanbanTestApp;
  let b: KanbanTestApp;

  const start = (): Promise<KanbanTestApp> => createKanbanTestApp({ transport: fleet.transport, options: typeof fleet.options === 'function' ? fleet.options() : fleet.options });

  beforeEach(async () => {
    a = await start();
    b = await start();
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('acks at B a lease pulled at A: the item is gone', async () => {
    // Arrange
    const domain = namespace.domain('fleet-ack');
    const { id } = await a.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    const [delivery] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });

    // Act
    const acked = await outcome(b.queue.ack(delivery.id, domain, delivery.lease));

    // Assert
    expect({ pulled: delivery.id, acked, nothingLeft: await nothingLeft([a, b], domain) }).toEqual({ pulled: id, acked: 'settled', nothingLeft: true });
  });

  it('refuses stale and forged settles at A and at B once the lease lapsed and the item went out again; the new lease settles at either; processed once', async () => {
    // Arrange: pulled at A, lapsed, pulled again (B first); a second item leased at A to misdirect a lease to.
    const domain = namespace.domain('fleet-fence');
    const { id } = await a.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    const [stale] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });
    const { app: holder, delivery: current } = await pullAnywhere([b, a], domain, id);
    const notHolder = holder === a ? b : a;
    const other = await a.queue.publish({ priority: 'normal', domain, payload: { n: 2 }, deadline: inFuture() });
    const [otherDelivery] = await notHolder.queue.pull({ domain, max: 1, waitMs: 5_000 });
    const forged = {
      'edited transport lease': withEditedTransportPart(current.lease),
      'holder no instance has': withHolder(current.lease, randomBytes(16).toString('hex')),
      'holder of the other instance': withHolder(current.lease, leaseParts(otherDelivery.lease).holder),
    };

    // Act
    const refusals: Record<string, string> = {};
    for (const [name, app] of [
      ['A', a],
      ['B', b],
    ] as const) {
      refusals[`${name} stale ack`] = await outcome(app.queue.ack(id, domain, stale.lease));
      refusals[`${name} stale ack with a far expiry`] = await outcome(app.queue.ack(id, domain, withFarExpiry(stale.lease)));
      refusals[`${name} stale nack`] = await outcome(app.queue.nack(id, domain, stale.lease, 'late'));
      refusals[`${name} stale retry`] = await outcome(app.queue.retry(id, domain, stale.lease, 0));
      refusals[`${name} stale extend`] = await outcome(app.queue.extendLease(id, domain, stale.lease, 10_000));
      for (const [label, lease] of Object.entries(forged)) refusals[`${name} ${label}`] = await outcome(app.queue.ack(id, domain, lease));
      refusals[`${name} lease of another item`] = await outcome(app.queue.ack(other.id, domain, current.lease));
    }
    const realAck = await outcome(notHolder.queue.ack(id, domain, current.lease));
    const otherAck = await outcome(holder.queue.ack(other.id, domain, otherDelivery.lease));

    // Assert
    expect(Object.values(refusals).every((result) => result === 'LeaseExpiredError') ? 'all refused' : refusals).toBe('all refused');
    expect({ pulledFirst: stale.id, attemptsAfterLapse: current.item.attempts, realAck, otherAck, otherId: otherDelivery.id }).toEqual({
      pulledFirst: id,
      attemptsAfterLapse: 2,
      realAck: 'settled',
      otherAck: 'settled',
      otherId: other.id,
    });
    expect(await nothingLeft([a, b], domain)).toBe(true);
  });

  it('refuses a settle at B once the holder A closed, and the item comes back', async () => {
    // Arrange
    const domain = namespace.domain('fleet-gone');
    const { id } = await a.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    const [held] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });
    await a.close();

    // Act
    const ack = await outcome(b.queue.ack(id, domain, held.lease));
    const { delivery: again } = await pullAnywhere([b], domain, id);

    // Assert
    expect({ ack, again: again.id, attempts: again.item.attempts }).toEqual({ ack: 'LeaseExpiredError', again: id, attempts: 2 });
    await b.queue.ack(id, domain, again.lease);
  });
});

describe('any instance settles any lease (failover, holder not reachable on NATS)', () => {
  let otherNats: PrivateNatsServer;
  let a: KanbanTestApp;
  let b: KanbanTestApp;

  beforeAll(async () => {
    otherNats = await startPrivateNatsServer();
  });

  afterAll(async () => {
    await otherNats?.stop();
  });

  beforeEach(async () => {
    const rabbitmq = { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix };
    a = await createKanbanTestApp({ transport: 'nats', options: { ...FLEET_OPTIONS, rabbitmq } });
    // B's NATS is another server: no instance listens there as A, so B's relay must go over RabbitMQ.
    b = await createKanbanTestApp({ transport: 'nats', options: { ...FLEET_OPTIONS, rabbitmq, nats: { servers: [otherNats.url], streamPrefix: namespace.streamPrefix } } });
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('relays over RabbitMQ when NATS has no listener for the holder, and still refuses a stale lease', async () => {
    // Arrange
    const domain = namespace.domain('fleet-route');
    const { id } = await a.queue.publish({ priority: 'normal', domain, payload: { n: 1 }, deadline: inFuture() });
    const [held] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });
    const second = await a.queue.publish({ priority: 'normal', domain, payload: { n: 2 }, deadline: inFuture() });
    const [secondHeld] = await a.queue.pull({ domain, max: 1, waitMs: 5_000 });

    // Act
    const extended = await outcome(b.queue.extendLease(id, domain, held.lease, 10_000));
    const acked = await outcome(b.queue.ack(id, domain, held.lease));
    const ackedAgain = await outcome(b.queue.ack(id, domain, held.lease));
    const letter = await b.queue.nack(second.id, domain, secondHeld.lease, 'refused at B');

    // Assert
    expect({ held: held.lease.includes('.nats:'), extended, acked, ackedAgain }).toEqual({ held: true, extended: 'settled', acked: 'settled', ackedAgain: 'LeaseExpiredError' });
    expect(letter).toMatchObject({ id: second.id, reason: 'nack', error: 'refused at B' });
    expect(await nothingLeft([a], domain)).toBe(true);
  });
});
