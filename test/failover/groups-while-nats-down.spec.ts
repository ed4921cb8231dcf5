import { Logger } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { rabbitmqBroker, testNamespace } from '../harness';
import { failoverOn, outboxDir, unreachable } from './support/parts';
import { purgeNamespace } from './support/purge-namespace';

const QUEUE = { domain: 'orders', priority: 'normal' } as const;
/** Far below a hung broker call, far above a refusal. */
const PROMPT_MS = 1_000;

async function refusal(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await call();
    return { error: 'answered', ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe('groups on failover while NATS is down', () => {
  const namespace = testNamespace();
  let dir: string;
  let transport: FailoverTransport;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    dir = outboxDir();
    transport = failoverOn({ nats: await unreachable('nats'), rabbitmq: rabbitmqBroker().url, outboxPath: join(dir, 'outbox.db') }, namespace, contractSettings());
    await transport.connect();
  });

  afterAll(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
    await purgeNamespace(namespace, [QUEUE.domain]);
  });

  it('keeps grouped items flowing on RabbitMQ with their group, and refuses group limits and listings at once, naming NATS', async () => {
    // Arrange
    const item = makeItem({ group: 'merchant-1' });

    // Act
    await transport.publish(item);
    const [delivery] = await pullExactly(transport, QUEUE, 1);
    await transport.ack(delivery);
    const limits = await refusal(() => transport.setGroupLimits(QUEUE.domain, 'merchant-1', { maxInFlight: 1 }));
    const listing = await refusal(() => transport.listGroups(QUEUE.domain, {}));

    // Assert
    expect('item' in delivery && delivery.item.group).toBe('merchant-1');
    for (const { error, ms } of [limits, listing]) {
      expect(error).toBeInstanceOf(BrokerUnavailableError);
      expect((error as Error).message).toMatch(/nats/);
      expect(ms).toBeLessThan(PROMPT_MS);
    }
  });
});
