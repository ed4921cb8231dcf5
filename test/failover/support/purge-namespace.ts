import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { connect as connectAmqp } from 'amqplib';
import { PRIORITIES } from '../../../libs/kanban/src/kanban.constants';
import { RabbitMqNames } from '../../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { natsBroker, rabbitmqBroker, type TestNamespace } from '../../harness';

/** Deletes the NATS streams of the namespace's prefix (the run's nats-server must be up). */
export async function deleteNatsStreams(namespace: TestNamespace): Promise<void> {
  const nc = await connectNats({ servers: natsBroker().url });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${namespace.streamPrefix}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}

/** Deletes the NATS streams of the namespace's prefix and its RabbitMQ queues and exchanges for `domains`. */
export async function purgeNamespace(namespace: TestNamespace, domains: string[]): Promise<void> {
  await deleteNatsStreams(namespace);
  const amqp = await connectAmqp(rabbitmqBroker().url);
  try {
    const channel = await amqp.createChannel();
    const names = new RabbitMqNames(namespace.queuePrefix);
    const queues = [
      names.deadLetterLog,
      names.intakeQueue,
      names.groupLimitsLog,
      ...domains.flatMap((domain) => PRIORITIES.flatMap((priority) => [names.workQueue(priority, domain), names.groupQueue(priority, domain)])),
    ];
    for (const queue of queues) await channel.deleteQueue(queue);
    await channel.deleteExchange(names.workExchange);
    await channel.deleteExchange(names.deadLetterExchange);
    await channel.deleteExchange(names.groupExchange);
    await channel.close();
  } finally {
    await amqp.close();
  }
}
