import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KanbanHandler, KanbanNack } from '@tps/kanban';
import { startPrivateNatsServer, waitFor, type PrivateNatsServer } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from '../library/support/kanban-test-app';

const USER = 'kanban';
const PASSWORD = 'least-privilege-0b5e1c';
const DOMAIN = 'locked';

/**
 * The lock-down docs/security.md recommends, as a nats-server config: an account of its own with
 * JetStream, no anonymous user, and a kanban user that may publish only on `kanban.>`, the
 * JetStream API and acks, and subscribe only on `kanban.>` and its inboxes.
 */
const LOCKED_DOWN_CONFIG = [
  'accounts {',
  '  KANBAN {',
  '    jetstream: enabled',
  `    users: [ { user: ${USER}, password: "${PASSWORD}", permissions: {`,
  '      publish: { allow: ["kanban.>", "$JS.API.>", "$JS.ACK.>"] },',
  '      subscribe: { allow: ["kanban.>", "_INBOX.>"] }',
  '    } } ]',
  '  }',
  '}',
];

const handled: number[] = [];

@Injectable()
class LockedConsumer {
  @KanbanHandler({ domain: DOMAIN })
  handle(@Payload() payload: { n: number; refuse?: boolean }): void {
    if (payload.refuse) throw new KanbanNack('refused on purpose');
    handled.push(payload.n);
  }
}

/** Errors the server sends a client for a subscription it may not make. */
async function subscribeRefusal(nc: NatsConnection, subject: string): Promise<unknown> {
  const subscription = nc.subscribe(subject);
  try {
    for await (const _message of subscription) return undefined;
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('NATS locked down to the documented permissions', () => {
  let nats: PrivateNatsServer;
  let app: KanbanTestApp;

  beforeAll(async () => {
    nats = await startPrivateNatsServer({ configLines: LOCKED_DOWN_CONFIG });
    // The default stream prefix keeps dead letters and idempotency records under kanban.> too.
    app = await createKanbanTestApp({
      transport: 'nats',
      providers: [LockedConsumer],
      options: { nats: { servers: [nats.url], user: USER, pass: PASSWORD }, maxWorkers: 1, autoscale: false, coordinatorCheckIntervalMs: 600_000 },
    });
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  it('runs publish, work, nack, dead letters, purge and idempotency with nothing more', async () => {
    // Arrange
    const first = await app.queue.publish({ priority: 'high', domain: DOMAIN, payload: { n: 1 }, deadline: inFuture(), idempotencyKey: 'once' });
    const again = await app.queue.publish({ priority: 'high', domain: DOMAIN, payload: { n: 1 }, deadline: inFuture(), idempotencyKey: 'once' });
    const refused = await app.queue.publish({ priority: 'low', domain: DOMAIN, payload: { n: 2, refuse: true }, deadline: inFuture() });

    // Act
    const letter = await waitFor(() => app.queue.getDeadLetter(refused.id), { timeoutMs: 10_000, description: 'the refused item dead-lettered' });
    const listed = (await app.queue.listDeadLetters({ domain: DOMAIN })).items;
    await app.queue.purgeDeadLetter(refused.id);

    // Assert
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    expect(handled).toEqual([1]);
    expect(letter).toMatchObject({ reason: 'nack', error: 'refused on purpose' });
    expect(listed.map((l) => l.id)).toEqual([refused.id]);
    expect((await app.queue.listDeadLetters({ domain: DOMAIN })).items).toEqual([]);
  });

  it('refuses the kanban user a subscription outside its subjects, and an anonymous client altogether', async () => {
    // Arrange
    const nc = await connect({ servers: nats.url, user: USER, pass: PASSWORD });

    // Act
    const refusal = await subscribeRefusal(nc, 'other.>');
    const anonymous = await connect({ servers: nats.url, reconnect: false }).then(
      async (connection) => (await connection.close(), undefined),
      (error: unknown) => error,
    );
    await nc.close();

    // Assert
    expect(String(refusal)).toMatch(/permissions violation/i);
    expect(String(anonymous)).toMatch(/authorization/i);
  });
});
