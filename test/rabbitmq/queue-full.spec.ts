import { QueueFullError } from '../../libs/kanban/src/errors';
import type { KanbanTransport } from '../../libs/kanban/src/transport';
import { LONG_LEASE_MS, contractSettings, makeItem } from '../contract/contract-helpers';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

/** Bounds the drain loop: far more pulls than the items any test here publishes. */
const MAX_DRAIN_ROUNDS = 1_000;
const QUEUE = { domain: 'orders', priority: 'normal' } as const;

/** Pulls and acks until a pull waits in vain; returns the ids in the order they came. */
async function drain(transport: KanbanTransport): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < MAX_DRAIN_ROUNDS; round++) {
    const batch = await transport.pull(QUEUE, 10, { leaseMs: LONG_LEASE_MS, waitMs: 500 });
    if (batch.length === 0) return ids;
    for (const delivery of batch) await transport.ack(delivery);
    ids.push(...batch.map((delivery) => delivery.id));
  }
  throw new Error(`Queue not drained after ${MAX_DRAIN_ROUNDS} pulls`);
}

describe('RabbitMQ full queues', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('accepts exactly maxQueueDepth publishes made one at a time, then refuses with QueueFullError', async () => {
    // Arrange
    const maxQueueDepth = 5;
    const transport = await harness.create(contractSettings({ maxQueueDepth }));
    const items = Array.from({ length: maxQueueDepth + 2 }, (_, n) => makeItem({ payload: { n } }));

    // Act
    const outcomes: Array<'stored' | QueueFullError> = [];
    for (const item of items) {
      outcomes.push(
        await transport.publish(item).then(
          () => 'stored' as const,
          (error: QueueFullError) => error,
        ),
      );
    }

    // Assert
    expect(outcomes.slice(0, maxQueueDepth)).toEqual(Array(maxQueueDepth).fill('stored'));
    for (const refusal of outcomes.slice(maxQueueDepth)) {
      expect(refusal).toBeInstanceOf(QueueFullError);
      expect(refusal).toMatchObject({ queue: harness.namesOf(transport).workQueue('normal', 'orders') });
      expect((refusal as QueueFullError).retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('under concurrent publishes stores every confirmed item and nothing it refused', async () => {
    // Arrange
    const transport = await harness.create(contractSettings({ maxQueueDepth: 20 }));
    const waves = Array.from({ length: 12 }, (_, wave) => Array.from({ length: 10 }, (_, n) => makeItem({ payload: { wave, n } })));

    // Act
    const confirmed: string[] = [];
    const refusals: unknown[] = [];
    for (const wave of waves) {
      const outcomes = await Promise.allSettled(wave.map((item) => transport.publish(item)));
      outcomes.forEach((outcome, n) => (outcome.status === 'fulfilled' ? confirmed.push(wave[n].id) : refusals.push(outcome.reason)));
    }
    const stored = await drain(transport);

    // Assert
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((error) => error instanceof QueueFullError)).toBe(true);
    expect(stored.sort()).toEqual(confirmed.sort());
  });
});
