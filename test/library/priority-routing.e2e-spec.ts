import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler, type Priority } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const CLAIMS = namespace.domain('claims');
const REFUNDS = namespace.domain('refunds');
import { HandledLog } from './support/recording-handler';

const domainLog = new HandledLog();
const onlyHighLog = new HandledLog();

@Injectable()
class ClaimsConsumer {
  @KanbanHandler({ domain: CLAIMS })
  handleAll(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    domainLog.record(payload, context);
  }

  @KanbanHandler({ domain: REFUNDS, priority: 'high' })
  handleHighRefunds(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    onlyHighLog.record(payload, context);
  }
}

describe.each(TRANSPORTS)('priority routing and order (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    domainLog.runs.length = 0;
    onlyHighLog.runs.length = 0;
    app = await createKanbanTestApp({ transport, providers: [ClaimsConsumer], options: { maxWorkers: 1, autoscale: false, workerPullSize: 3 } });
  });
  afterAll(() => app.close());

  it('a domain worker serves every high item before normal before low, whatever the publish order', async () => {
    // Arrange
    await app.pool.stop(CLAIMS);
    const order: Priority[] = ['low', 'normal', 'high', 'low', 'high', 'normal', 'low', 'high', 'normal', 'high'];
    for (const [i, priority] of order.entries()) await app.queue.publish({ priority, domain: CLAIMS, payload: i, deadline: inFuture() });

    // Act
    app.pool.start(CLAIMS);
    await waitFor(() => domainLog.runs.length === order.length, { timeoutMs: 10_000, description: 'all claims handled' });

    // Assert
    expect(domainLog.runs.map((r) => r.priority)).toEqual(['high', 'high', 'high', 'high', 'normal', 'normal', 'normal', 'low', 'low', 'low']);
    expect(domainLog.runs.filter((r) => r.priority === 'high').map((r) => r.payload)).toEqual([2, 4, 7, 9]);
  });

  it('a (priority, domain) handler receives only its own priority', async () => {
    // Arrange
    const high = await app.queue.publish({ priority: 'high', domain: REFUNDS, payload: 'h', deadline: inFuture() });
    const low = await app.queue.publish({ priority: 'low', domain: REFUNDS, payload: 'l', deadline: inFuture() });

    // Act
    await waitFor(() => onlyHighLog.runs.length === 1, { timeoutMs: 10_000, description: 'high refund handled' });

    // Assert
    expect(onlyHighLog.ids()).toEqual([high.id]);
    const [pulledLow] = await app.queue.pull({ domain: REFUNDS, priority: 'low', waitMs: 5_000 });
    expect(pulledLow.id).toBe(low.id);
  });
});
