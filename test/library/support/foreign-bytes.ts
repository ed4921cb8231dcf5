import Database from 'better-sqlite3';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { Priority } from '@tps/kanban';
import { RabbitMqNames } from '../../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { natsBroker, rabbitmqBroker } from '../../harness';
import { namespace, type KanbanTestApp } from './kanban-test-app';
import { connect as amqpConnect } from 'amqplib';

/** Writes bytes to a kanban queue the way a foreign publisher would, on whatever broker the app uses. */
export async function publishForeignBytes(app: KanbanTestApp, priority: Priority, domain: string, bytes: Buffer): Promise<void> {
  await app.transport.ensureQueue(priority, domain);
  switch (app.kind) {
    case 'embedded': {
      const db = new Database(app.dbPath);
      db.prepare('INSERT INTO kanban_items (priority, domain, body) VALUES (?, ?, ?)').run(priority, domain, bytes);
      db.close();
      return;
    }
    case 'nats': {
      const nc = await connect({ servers: natsBroker().url });
      await jetstream(nc).publish(`kanban.${priority}.${domain}`, bytes);
      await nc.close();
      return;
    }
    case 'rabbitmq': {
      const connection = await amqpConnect(rabbitmqBroker().url);
      const channel = await connection.createConfirmChannel();
      const names = new RabbitMqNames(namespace.queuePrefix);
      channel.publish(names.workExchange, names.routingKey(priority, domain), bytes, { persistent: true });
      await channel.waitForConfirms();
      await connection.close();
      return;
    }
  }
}
