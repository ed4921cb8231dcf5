import { KanbanEvents } from '../../libs/kanban/src/events/kanban-events';
import { CanaryTracker } from '../../libs/kanban/src/canary/canary-tracker';
import type { CanaryResult } from '../../libs/kanban/src/canary/canary-result.interface';

const canary = (itemId: string): CanaryResult => ({ jobId: `canary-${itemId}`, itemId, domain: 'reports', broker: 'rabbitmq', publishedAt: Date.now(), status: 'pending' });

/**
 * A worker can pull, run and ack a canary before the canary's publish resolves (on RabbitMQ the
 * confirm and the delivery come on two connections): the tracker must still see that outcome.
 */
describe('canary settled before its publish resolved', () => {
  it('reports the ack that came before the publish resolved', async () => {
    // Arrange
    const events = new KanbanEvents();
    const tracker = new CanaryTracker(events);

    // Act
    const result = await tracker.follow(async () => {
      events.emit({ type: 'acked', id: 'item-1', priority: 'high', domain: 'reports', broker: 'rabbitmq' });
      return canary('item-1');
    });

    // Assert
    expect(result).toMatchObject({ itemId: 'item-1', status: 'acked' });
    expect(tracker.results()).toEqual([expect.objectContaining({ itemId: 'item-1', status: 'acked' })]);
    tracker.onModuleDestroy();
  });

  it('reports a dead letter that came first, and forgets settles of other items once no canary is publishing', async () => {
    // Arrange
    const events = new KanbanEvents();
    const tracker = new CanaryTracker(events);

    // Act
    const first = await tracker.follow(async () => {
      events.emit({ type: 'dead_lettered', id: 'item-2', priority: 'high', domain: 'reports', broker: 'nats', reason: 'nack', error: 'no' });
      events.emit({ type: 'acked', id: 'item-3', priority: 'high', domain: 'reports', broker: 'nats' });
      return canary('item-2');
    });
    const second = await tracker.follow(async () => canary('item-3'));

    // Assert
    expect(first).toMatchObject({ status: 'dead_lettered', error: 'nack: no' });
    expect(second).toMatchObject({ status: 'pending' });
    tracker.onModuleDestroy();
  });
});
