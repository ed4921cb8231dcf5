import { Injectable, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanConfigError, KanbanHandler, type KanbanHandlerOptions } from '@tps/kanban';
import { createKanbanTestApp, namespace } from './support/kanban-test-app';

const ORDERS = namespace.domain('orders');

function consumerWith(options: KanbanHandlerOptions): Type {
  @Injectable()
  class OrderConsumer {
    @KanbanHandler(options)
    handle(@Payload() _payload: unknown) {}
  }
  return OrderConsumer;
}

async function startUpError(providers: Type[]): Promise<unknown> {
  return createKanbanTestApp({ providers, options: { maxAttempts: 2 } }).then(
    async (app) => {
      await app.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

/** Each bad handler option, and the field the error must name. */
const BAD_OPTIONS: [string, Partial<KanbanHandlerOptions> | Record<string, unknown>, string][] = [
  ['maxAttempts 0', { maxAttempts: 0 }, 'maxAttempts'],
  ['fractional concurrency', { concurrency: 1.5 }, 'concurrency'],
  ['negative pullSize', { pullSize: -1 }, 'pullSize'],
  ['processTimeoutMs as a string', { processTimeoutMs: '100' }, 'processTimeoutMs'],
  ['an empty backoff list', { backoff: [] }, 'backoff'],
  ['an unknown backoff type', { backoff: { type: 'linear', delayMs: 10 } }, 'backoff.type'],
  ['jitter above 1', { backoff: { type: 'exponential', delayMs: 10, jitter: 1.5 } }, 'backoff.jitter'],
  ['maxDelayMs below delayMs', { backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 10 } }, 'backoff.maxDelayMs'],
  ['a breaker threshold of 0', { circuitBreaker: { threshold: 0 } }, 'circuitBreaker.threshold'],
  ['a batch without max', { batch: { waitMs: 10 } }, 'batch.max'],
  ['a negative batch wait', { batch: { max: 5, waitMs: -1 } }, 'batch.waitMs'],
  ['pullSize beside batch', { batch: { max: 5, waitMs: 10 }, pullSize: 5 }, 'pullSize'],
  ['a misspelt option', { maxAttempt: 5 }, 'maxAttempt'],
];

describe('@KanbanHandler options checked at start-up', () => {
  it.each(BAD_OPTIONS)('refuses %s with a KanbanConfigError naming the handler and the field', async (_label, bad, field) => {
    // Arrange
    const consumer = consumerWith({ domain: ORDERS, ...bad });

    // Act
    const error = await startUpError([consumer]);

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as Error).message).toContain('OrderConsumer.handle');
    expect((error as Error).message).toContain(`${field} `);
  });

  it('refuses a domain-wide handler and a priority handler of one domain that disagree on maxAttempts', async () => {
    // Arrange
    @Injectable()
    class AllPriorities {
      @KanbanHandler({ domain: ORDERS, maxAttempts: 5 })
      handle(@Payload() _payload: unknown) {}
    }
    @Injectable()
    class HighOnly {
      @KanbanHandler({ domain: ORDERS, priority: 'high', maxAttempts: 3 })
      handle(@Payload() _payload: unknown) {}
    }

    // Act
    const error = await startUpError([AllPriorities, HighOnly]);

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as Error).message).toMatch(/HighOnly\.handle.*maxAttempts 3 conflicts with AllPriorities\.handle/);
  });

  it('refuses two handlers of one (priority, domain)', async () => {
    // Arrange
    @Injectable()
    class First {
      @KanbanHandler({ domain: ORDERS, priority: 'low', concurrency: 2 })
      handle(@Payload() _payload: unknown) {}
    }
    @Injectable()
    class Second {
      @KanbanHandler({ domain: ORDERS, priority: 'low', concurrency: 4 })
      handle(@Payload() _payload: unknown) {}
    }

    // Act
    const error = await startUpError([First, Second]);

    // Assert
    expect(error).toBeInstanceOf(KanbanConfigError);
    expect((error as Error).message).toMatch(/Second\.handle.*First\.handle consumes the same queue/);
  });

  it('starts with valid options on every field', async () => {
    // Arrange
    const consumer = consumerWith({
      domain: ORDERS,
      priority: 'normal',
      maxAttempts: 5,
      backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: 0.2 },
      concurrency: 2,
      processTimeoutMs: 5_000,
      circuitBreaker: { threshold: 5, cooldownMs: 1_000 },
      batch: { max: 20, waitMs: 50 },
    });

    // Act
    const error = await startUpError([consumer]);

    // Assert
    expect(error).toBeUndefined();
  });
});
