import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { KanbanConfigError, KanbanHandler, KanbanModule, KanbanValidationError, type Delivery } from '@tps/kanban';
import { startPrivateNatsServer, type PrivateNatsServer } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';
import { HOSTILE_DOMAINS } from './support/hostile-inputs';
import { NatsSpy } from './support/nats-spy';

const SENTINEL = namespace.domain('sentinel');
const VICTIM = namespace.domain('victim');

/** What a call did: the fields a KanbanValidationError named, or how else it ended. */
async function outcomeOf(call: () => unknown): Promise<string[] | string> {
  try {
    await call();
    return 'resolved';
  } catch (error) {
    return error instanceof KanbanValidationError ? error.errors.map((e) => e.field) : `${(error as Error).name}: ${(error as Error).message}`;
  }
}

/**
 * Hostile domains through every library call that takes one, on a NATS server of its own watched
 * by a `>` subscriber: each call is refused with a KanbanValidationError naming `domain`, and the
 * spy sees nothing between the calls and a sentinel publish sent after them.
 */
describe('subject injection through the library (nats)', () => {
  let nats: PrivateNatsServer;
  let spy: NatsSpy;
  let app: KanbanTestApp;

  const publishSentinel = async (): Promise<string> => {
    const text = randomUUID();
    await app.queue.publish({ priority: 'normal', domain: SENTINEL, payload: { sentinel: text }, deadline: inFuture() });
    return text;
  };

  beforeAll(async () => {
    nats = await startPrivateNatsServer();
    spy = await NatsSpy.on(nats.url);
    app = await createKanbanTestApp({
      transport: 'nats',
      options: { nats: { servers: [nats.url], streamPrefix: namespace.streamPrefix }, coordinatorCheckIntervalMs: 600_000, autoscale: false },
    });
    await spy.before(spy.mark(), `kanban.normal.${SENTINEL}`, await publishSentinel());
  });

  afterAll(async () => {
    await app?.close();
    await spy?.close();
    await nats?.stop();
  });

  /** One fresh delivery per settle call, so that one call settling it cannot hide what the next one does. */
  const deliver = async (): Promise<Delivery> => {
    await app.queue.publish({ priority: 'normal', domain: VICTIM, payload: 1, deadline: inFuture() });
    const [delivery] = await app.queue.pull({ domain: VICTIM, max: 1 });
    return delivery;
  };

  it.each(HOSTILE_DOMAINS)('refuses a domain with %s in every call before any broker call', async (_label, domain) => {
    // Arrange: real deliveries, so that a settle with the hostile domain holds a lease that works.
    const [forAck, forNack, forRetry, forExtend, forDeadLetter] = [await deliver(), await deliver(), await deliver(), await deliver(), await deliver()];
    // The spy receives asynchronously: wait until it has seen everything the deliveries sent, then mark.
    await spy.before(spy.mark(), `kanban.normal.${SENTINEL}`, await publishSentinel());
    const mark = spy.mark();

    // Act
    const outcomes = {
      publish: await outcomeOf(() => app.queue.publish({ priority: 'high', domain, payload: { injected: true }, deadline: inFuture() })),
      pull: await outcomeOf(() => app.queue.pull({ domain, max: 1 })),
      ack: await outcomeOf(() => app.queue.ack(forAck.item.id, domain, forAck.lease)),
      nack: await outcomeOf(() => app.queue.nack(forNack.item.id, domain, forNack.lease, 'no')),
      retry: await outcomeOf(() => app.queue.retry(forRetry.item.id, domain, forRetry.lease, 0)),
      extendLease: await outcomeOf(() => app.queue.extendLease(forExtend.item.id, domain, forExtend.lease)),
      deadLetter: await outcomeOf(() => app.queue.deadLetter(forDeadLetter.item.id, domain, forDeadLetter.lease, 'nack', 'no')),
      listDeadLetters: await outcomeOf(() => app.queue.listDeadLetters({ domain })),
      schedulePeriodic: await outcomeOf(() => app.scheduler.schedulePeriodic('low', domain, 60_000, 1_000)),
      scheduleCron: await outcomeOf(() => app.scheduler.scheduleCron('low', domain, '0 0 * * *', 1_000)),
      scheduleCanary: await outcomeOf(() => app.scheduler.scheduleCanary(domain, 1)),
    };
    const stray = await spy.before(mark, `kanban.normal.${SENTINEL}`, await publishSentinel());
    // Each delivery is untouched: its lease still settles it, under its own domain.
    const untouched = [];
    for (const delivery of [forAck, forNack, forRetry, forExtend, forDeadLetter]) untouched.push(await outcomeOf(() => app.queue.ack(delivery.item.id, VICTIM, delivery.lease)));

    // Assert
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((call) => [call, ['domain']])));
    expect(stray).toEqual([]);
    expect(untouched).toEqual(Array(5).fill('resolved'));
  });

  it('refuses to start a @KanbanHandler on a hostile domain, naming the handler', async () => {
    // Arrange
    @Injectable()
    class HostileConsumer {
      @KanbanHandler({ domain: 'orders.*' })
      handle(): void {}
    }
    const builder = Test.createTestingModule({ imports: [KanbanModule.forRoot({ embedded: { path: ':memory:' } })], providers: [HostileConsumer] });

    // Act: the handler's queue rules are read while the module compiles, before any transport is built
    const error = await builder.compile().then(
      async (module) => {
        await module.close();
        return undefined;
      },
      (caught: unknown) => caught,
    );

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as Error).message).toContain('HostileConsumer.handle');
  });
});
