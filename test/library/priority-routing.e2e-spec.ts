import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanHandler, type Priority } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from './support/kanban-test-app';
import { HandledLog } from './support/recording-handler';

const domainLog = new HandledLog();
const onlyHighLog = new HandledLog();

@Injectable()
class ClaimsConsumer {
  @KanbanHandler({ domain: 'claims' })
  handleAll(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    domainLog.record(payload, context);
  }

  @KanbanHandler({ domain: 'refunds', priority: 'high' })
  handleHighRefunds(@Payload() payload: unknown, @Ctx() context: KanbanContext) {
    onlyHighLog.record(payload, context);
  }
}

describe('priority routing and order', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({ providers: [ClaimsConsumer], options: { maxWorkers: 1, autoscale: false, workerPullSize: 3 } });
  });
  afterAll(() => app.close());

  it('a domain worker serves every high item before normal before low, whatever the publish order', async () => {
    // Arrange
    await app.pool.stop('claims');
    const order: Priority[] = ['low', 'normal', 'high', 'low', 'high', 'normal', 'low', 'high', 'normal', 'high'];
    for (const [i, priority] of order.entries()) await app.queue.publish({ priority, domain: 'claims', payload: i, deadline: inFuture() });

    // Act
    app.pool.start('claims');
    await waitFor(() => domainLog.runs.length === order.length, { timeoutMs: 10_000, description: 'all claims handled' });

    // Assert
    expect(domainLog.runs.map((r) => r.priority)).toEqual(['high', 'high', 'high', 'high', 'normal', 'normal', 'normal', 'low', 'low', 'low']);
    expect(domainLog.runs.filter((r) => r.priority === 'high').map((r) => r.payload)).toEqual([2, 4, 7, 9]);
  });

  it('a (priority, domain) handler receives only its own priority', async () => {
    // Arrange
    const high = await app.queue.publish({ priority: 'high', domain: 'refunds', payload: 'h', deadline: inFuture() });
    const low = await app.queue.publish({ priority: 'low', domain: 'refunds', payload: 'l', deadline: inFuture() });

    // Act
    await waitFor(() => onlyHighLog.runs.length === 1, { timeoutMs: 10_000, description: 'high refund handled' });

    // Assert
    expect(onlyHighLog.ids()).toEqual([high.id]);
    const [pulledLow] = await app.queue.pull({ domain: 'refunds', priority: 'low' });
    expect(pulledLow.id).toBe(low.id);
  });
});
