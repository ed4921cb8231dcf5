import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { KanbanConfigError, KanbanModule, KanbanQueue, OutboxFullError, resolveKanbanOptions, type KanbanModuleOptions } from '@tps/kanban';
import { freePort } from '../harness';

const inFuture = (): number => Date.now() + 60_000;

/** Each bad option, and the name the KanbanConfigError must give it. */
const BAD_OPTIONS: Array<[string, KanbanModuleOptions, string]> = [
  ['a zero pull size', { workerPullSize: 0 }, 'workerPullSize'],
  ['a fractional timeout', { workerProcessTimeoutMs: 1.5 }, 'workerProcessTimeoutMs'],
  ['a negative queue depth', { maxQueueDepth: -1 }, 'maxQueueDepth'],
  ['more minimum than maximum workers', { minWorkers: 5, maxWorkers: 2 }, 'minWorkers'],
  ['an empty backoff list', { retryBackoffMs: [] }, 'retryBackoffMs'],
  ['an unknown queue-full behaviour', { queueFullBehavior: 'drop' as never }, 'queueFullBehavior'],
  ['a zero breaker cooldown', { circuitBreakerCooldownMs: 0 }, 'circuitBreakerCooldownMs'],
  ['an empty store path', { embedded: { path: '' } }, 'embedded.path'],
  ['no NATS servers', { nats: { servers: [] } }, 'nats.servers'],
  ['a RabbitMQ URL without amqp://', { rabbitmq: { url: 'http://127.0.0.1:5672' } }, 'rabbitmq.url'],
  ['a zero failover publish timeout', { failover: { publishTimeoutMs: 0 } }, 'failover.publishTimeoutMs'],
  ['a fractional outbox limit', { failover: { outboxMaxItems: 2.5 } }, 'failover.outboxMaxItems'],
];

describe('module options', () => {
  it.each(BAD_OPTIONS)('refuses %s with a KanbanConfigError naming the option', (_label, options, option) => {
    // Act
    const error = (() => {
      try {
        resolveKanbanOptions(options);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as KanbanConfigError).message).toContain(option);
  });

  it('keeps at most failover.outboxMaxItems in the outbox while both brokers are down, then refuses with OutboxFullError', async () => {
    // Arrange: both brokers on ports nothing listens on, so every publish goes to the outbox.
    Logger.overrideLogger(['error']);
    const dir = mkdtempSync(join(tmpdir(), 'kanban-options-'));
    const module = await Test.createTestingModule({
      imports: [
        KanbanModule.forRoot({
          nats: { servers: [`nats://127.0.0.1:${await freePort()}`] },
          rabbitmq: { url: `amqp://guest:guest@127.0.0.1:${await freePort()}` },
          embedded: { path: join(dir, 'kanban.db') },
          failover: { outboxMaxItems: 2, publishTimeoutMs: 200 },
          coordinatorCheckIntervalMs: 600_000,
          autoscale: false,
        }),
      ],
    }).compile();
    await module.init();
    const queue = module.get(KanbanQueue);
    const publish = () => queue.publish({ priority: 'normal', domain: 'orders', payload: {}, deadline: inFuture() });

    try {
      // Act
      const kept = [await publish(), await publish()];
      const refused = await publish().catch((error: unknown) => error);

      // Assert
      expect(kept.map((receipt) => receipt.broker)).toEqual(['outbox', 'outbox']);
      expect(refused).toBeInstanceOf(OutboxFullError);
      expect((refused as OutboxFullError).maxItems).toBe(2);
    } finally {
      await module.close();
      rmSync(dir, { recursive: true, force: true });
      Logger.overrideLogger(['warn', 'error']);
    }
  });
});
