import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { KanbanHandler } from '@tps/kanban';
import { KanbanEvents } from '../../libs/kanban/src/events';
import { resolveKanbanOptions } from '../../libs/kanban/src/kanban-options';
import { KanbanMetrics } from '../../libs/kanban/src/metrics';
import { KanbanQueue } from '../../libs/kanban/src/queue';
import { SettleRelay } from '../../libs/kanban/src/relay';
import type { FailoverTransport } from '../../libs/kanban/src/transports/failover';
import { contractSettings } from '../contract/contract-helpers';
import { rabbitmqBroker, testNamespace, waitFor } from '../harness';
import type { LocalBrokerState } from '../harness/broker-state';
import { relaunchLocalNats, startLocalNats } from '../harness/local-nats';
import { terminate } from '../harness/local-process';
import { failoverOn, outboxDir, unreachable } from '../failover/support/parts';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../library/support/kanban-test-app';
import { installInMemoryTracing, traceparentOf, type InMemoryTracing } from './support/in-memory-tracing';

const SETTLEMENTS = namespace.domain('settlements');
/** The reconnect interval of a never-connected broker plus three probes, with room for a loaded machine. */
const RECOVERY_TIMEOUT_MS = 20_000;

@Injectable()
class SettlementConsumer {
  @KanbanHandler({ priority: 'normal', domain: SETTLEMENTS })
  handle(@Payload() _payload: unknown) {}
}

describe('W3C trace context survives a failover', () => {
  let tracing: InMemoryTracing;

  beforeAll(() => {
    tracing = installInMemoryTracing();
  });
  afterAll(async () => {
    await tracing.uninstall();
  });

  describe('published to RabbitMQ while NATS is down', () => {
    let app: KanbanTestApp;

    beforeAll(async () => {
      app = await createKanbanTestApp({
        transport: 'rabbitmq',
        providers: [SettlementConsumer],
        options: {
          nats: { servers: [await unreachable('nats')], streamPrefix: namespace.streamPrefix },
          rabbitmq: { url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix },
          startWorkers: false,
          autoscale: false,
          coordinatorCheckIntervalMs: 60_000,
        },
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("runs the handler in a child span of the publish span, in the caller's trace", async () => {
      // Arrange
      app.pool.start(SETTLEMENTS, 'normal');

      // Act
      const { caller, receipt } = await tracing.inSpan('settle', async (span) => ({
        caller: span,
        receipt: await app.queue.publish({ priority: 'normal', domain: SETTLEMENTS, payload: {}, deadline: inFuture() }),
      }));
      const [consumer] = await tracing.spans(`kanban process ${SETTLEMENTS}`, 1);
      await app.pool.stop(SETTLEMENTS, 'normal');

      // Assert
      const [producer] = await tracing.spans(`kanban publish ${SETTLEMENTS}`, 1);
      expect(receipt.broker).toBe('rabbitmq');
      expect(producer.attributes['kanban.broker']).toBe('rabbitmq');
      expect(producer.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(consumer.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    });
  });

  describe('published to the outbox while both brokers are down', () => {
    let nats: (LocalBrokerState & { port: number }) | undefined;
    let transport: FailoverTransport | undefined;
    const dir = outboxDir();

    afterAll(async () => {
      await transport?.close();
      if (nats) {
        await terminate(nats.pid);
        rmSync(nats.baseDir, { recursive: true, force: true });
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it("delivers the item from NATS, once forwarded, with the publish span's traceparent", async () => {
      // Arrange
      nats = await startLocalNats({ dirPrefix: 'tps-kanban-nats-trace-' });
      await terminate(nats.pid);
      transport = failoverOn({ nats: `nats://127.0.0.1:${nats.port}`, rabbitmq: await unreachable('amqp'), outboxPath: join(dir, 'outbox.db') }, testNamespace(), contractSettings());
      await transport.connect();
      const queue = new KanbanQueue(transport, resolveKanbanOptions({}), new KanbanMetrics(new Registry()), new KanbanEvents(), new SettleRelay(transport));
      const receipt = await tracing.inSpan('payout', () => queue.publish({ priority: 'normal', domain: 'orders', payload: {}, deadline: inFuture() }));

      // Act
      nats.pid = await relaunchLocalNats(nats);
      const running = transport;
      await waitFor(() => running.stats.outboxSize === 0 && running.currentStatus.active === 'nats', { timeoutMs: RECOVERY_TIMEOUT_MS, description: 'the outbox forwarded to NATS' });
      const [delivery] = await waitFor(
        async () => {
          const pulled = await queue.pull({ domain: 'orders', priority: 'normal', max: 1, waitMs: 500 });
          return pulled.length > 0 ? pulled : undefined;
        },
        { timeoutMs: RECOVERY_TIMEOUT_MS, description: 'the forwarded item pulled from NATS' },
      );
      await queue.ack(delivery.id, 'orders', delivery.lease);

      // Assert
      const [producer] = await tracing.spans('kanban publish orders', 1);
      expect(receipt.broker).toBe('outbox');
      expect(delivery.id).toBe(receipt.id);
      expect(delivery.item.headers.traceparent).toBe(traceparentOf(producer));
    });
  });
});
