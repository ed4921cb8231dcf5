import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';

const RECEIPTS = namespace.domain('receipts');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const handled: Record<string, string>[] = [];

@Injectable()
class ReceiptConsumer {
  @KanbanHandler({ priority: 'normal', domain: RECEIPTS })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    handled.push(context.getItem().headers);
  }
}

describe('without @opentelemetry/api installed', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    // prom-client loads the real package with the library; from here on a require of it fails as for an app without it.
    jest.doMock('@opentelemetry/api', () => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    });
    app = await createKanbanTestApp({ providers: [ReceiptConsumer], options: { startWorkers: false, autoscale: false, coordinatorCheckIntervalMs: 60_000 } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('publishes, hands the item with its traceparent unchanged to the handler and acks it', async () => {
    // Arrange
    app.pool.start(RECEIPTS, 'normal');

    // Act
    await app.queue.publish({ priority: 'normal', domain: RECEIPTS, payload: {}, deadline: inFuture(), headers: { traceparent: TRACEPARENT } });
    await waitFor(async () => handled.length === 1 && (await app.transport.depth()).every((queue) => queue.ready + queue.inFlight === 0), {
      timeoutMs: 10_000,
      description: 'the item handled and acked',
    });
    await app.pool.stop(RECEIPTS, 'normal');

    // Assert
    expect(handled).toEqual([{ traceparent: TRACEPARENT }]);
  });
});
