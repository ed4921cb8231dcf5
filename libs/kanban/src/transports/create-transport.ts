import { Logger } from '@nestjs/common';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { transportSettingsFrom } from '../kanban-options';
import type { KanbanTransport } from '../transport/kanban-transport';
import { EmbeddedTransport } from './embedded';
import { FailoverTransport, OutboxStore } from './failover';
import { NatsTransport } from './nats';
import { RabbitMqTransport } from './rabbitmq';

/**
 * The built-in choice: NATS with RabbitMQ as its fallback and an outbox in the embedded store's
 * file when both are set, NATS or RabbitMQ when one is set, the embedded store when no broker is
 * configured.
 * @throws KanbanConfigError for options the chosen transport cannot use.
 */
export function createTransport(options: KanbanResolvedOptions): KanbanTransport {
  const settings = transportSettingsFrom(options);
  const logger = new Logger('KanbanModule');
  if (options.nats && options.rabbitmq) {
    logger.log(`Transport: NATS JetStream (${options.nats.servers.length} server(s)), RabbitMQ fallback, outbox at ${options.embedded.path}`);
    return new FailoverTransport(
      new NatsTransport(options.nats, settings),
      new RabbitMqTransport(options.rabbitmq, settings),
      new OutboxStore({ path: options.embedded.path, maxItems: options.failover.outboxMaxItems }),
      { publishTimeoutMs: options.failover.publishTimeoutMs },
    );
  }
  if (options.nats) {
    logger.log(`Transport: NATS JetStream (${options.nats.servers.length} server(s))`);
    return new NatsTransport(options.nats, settings);
  }
  if (options.rabbitmq) {
    logger.log('Transport: RabbitMQ');
    return new RabbitMqTransport(options.rabbitmq, settings);
  }
  logger.log(`Transport: embedded store at ${options.embedded.path}`);
  return new EmbeddedTransport(options.embedded, settings);
}
