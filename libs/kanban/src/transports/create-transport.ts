import { Logger } from '@nestjs/common';
import { KanbanConfigError } from '../errors';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { transportSettingsFrom } from '../kanban-options';
import type { KanbanTransport } from '../transport/kanban-transport';
import { EmbeddedTransport } from './embedded';
import { NatsTransport } from './nats';
import { RabbitMqTransport } from './rabbitmq';

/**
 * The built-in choice: NATS when `nats` is set, RabbitMQ when `rabbitmq` is set, the embedded
 * store when no broker is configured.
 * @throws KanbanConfigError for a combination no built-in transport serves.
 */
export function createTransport(options: KanbanResolvedOptions): KanbanTransport {
  const settings = transportSettingsFrom(options);
  const logger = new Logger('KanbanModule');
  if (options.nats && options.rabbitmq) {
    throw new KanbanConfigError('nats + rabbitmq', 'automatic failover between both brokers is not available in this version; configure one broker');
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
