import { Logger } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import type { Priority, RabbitMqConnectionOptions } from '../../libs/kanban/src/interfaces';
import { PRIORITIES } from '../../libs/kanban/src/kanban.constants';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import { RABBITMQ_DELAY_RUNGS_MS, RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import type { ContractHarness } from '../contract/transport-contract';
import { rabbitmqBroker, testNamespace } from '../harness';

/** Domains the contract suite uses; their queues are deleted with the namespace. */
const CONTRACT_DOMAINS = ['orders', 'billing'];

/** The contract harness for RabbitMQ, plus what RabbitMQ-only tests need. */
export interface RabbitMqHarness extends ContractHarness {
  create(settings: TransportSettings, options?: Partial<RabbitMqConnectionOptions>): Promise<RabbitMqTransport>;
  reopen(transport: RabbitMqTransport, settings: TransportSettings): Promise<RabbitMqTransport>;
  /** A transport on the namespace of `transport` that is not connected yet. */
  sibling(transport: RabbitMqTransport, settings: TransportSettings, options?: Partial<RabbitMqConnectionOptions>): RabbitMqTransport;
  /** A plain amqplib connection to the test broker, for arranging what a foreign client would do. */
  admin(): Promise<ChannelModel>;
  namesOf(transport: RabbitMqTransport): RabbitMqNames;
  /** The queue prefix of the namespace `transport` was created in. */
  prefixOf(transport: RabbitMqTransport): string;
  /** Closes the admin connection; for afterAll. */
  dispose(): Promise<void>;
}

/**
 * Each `create` gets a namespace of its own (queue prefix), so tests never see each other's queues;
 * cleanup closes every transport and deletes what the namespaces declared.
 */
export function createRabbitMqHarness(): RabbitMqHarness {
  // Connect and close lines for every test drown the report; warnings and errors still show.
  Logger.overrideLogger(['warn', 'error']);
  const prefixes = new Map<RabbitMqTransport, string>();
  const domains = new Map<string, Set<string>>();
  let adminConnection: Promise<ChannelModel> | undefined;

  const admin = (): Promise<ChannelModel> => {
    adminConnection ??= connect(rabbitmqBroker().url);
    return adminConnection;
  };
  const build = (prefix: string, settings: TransportSettings, options: Partial<RabbitMqConnectionOptions> = {}): RabbitMqTransport => {
    const transport = new RabbitMqTransport({ url: rabbitmqBroker().url, queuePrefix: prefix, ...options }, settings);
    prefixes.set(transport, prefix);
    if (!domains.has(prefix)) domains.set(prefix, new Set(CONTRACT_DOMAINS));
    return transport;
  };
  const prefixOf = (transport: RabbitMqTransport): string => {
    const prefix = prefixes.get(transport);
    if (prefix === undefined) throw new Error('transport was not created by this harness');
    return prefix;
  };
  const open = async (prefix: string, settings: TransportSettings, options?: Partial<RabbitMqConnectionOptions>): Promise<RabbitMqTransport> => {
    const transport = build(prefix, settings, options);
    await transport.connect();
    return transport;
  };
  const forget = async (transport: RabbitMqTransport): Promise<void> => {
    const seen = domains.get(prefixOf(transport));
    try {
      for (const row of await transport.depth()) seen?.add(row.domain);
    } catch {
      // Not connected: the namespace's default domains are deleted anyway.
    }
    await transport.close();
  };

  return {
    admin,
    create: (settings, options) => open(testNamespace().queuePrefix, settings, options),
    async reopen(transport, settings) {
      await forget(transport);
      return open(prefixOf(transport), settings);
    },
    sibling: (transport, settings, options) => build(prefixOf(transport), settings, options),
    peer: (transport, settings) => open(prefixOf(transport as RabbitMqTransport), settings),
    namesOf: (transport) => new RabbitMqNames(prefixOf(transport)),
    prefixOf,
    async injectRaw(target, priority: Priority, domain, bytes) {
      const transport = target as RabbitMqTransport;
      await transport.ensureQueue(priority, domain);
      domains.get(prefixOf(transport))?.add(domain);
      const channel = await (await admin()).createConfirmChannel();
      try {
        const names = new RabbitMqNames(prefixOf(transport));
        channel.publish(names.workExchange, names.routingKey(priority, domain), bytes, { persistent: true });
        await channel.waitForConfirms();
      } finally {
        await channel.close();
      }
    },
    async cleanup() {
      for (const transport of prefixes.keys()) await forget(transport);
      const channel = await (await admin()).createChannel();
      try {
        for (const [prefix, seen] of domains) {
          const names = new RabbitMqNames(prefix);
          const queues = [
            names.deadLetterLog,
            names.legacyDeadLetterQueue,
            names.intakeQueue,
            names.delayDueQueue,
            names.scheduleLeaderQueue,
            names.scheduleLog,
            names.scheduleTickLog,
            names.groupLimitsLog,
            names.groupSpillsLog,
            ...RABBITMQ_DELAY_RUNGS_MS.map((ttl) => names.delayRung(ttl)),
            ...[...seen].flatMap((domain) => PRIORITIES.flatMap((priority) => [names.workQueue(priority, domain), names.groupQueue(priority, domain), names.delayTally(priority, domain)])),
          ];
          for (const queue of queues) await channel.deleteQueue(queue);
          await channel.deleteExchange(names.workExchange);
          await channel.deleteExchange(names.deadLetterExchange);
          await channel.deleteExchange(names.groupExchange);
        }
      } finally {
        await channel.close();
      }
      prefixes.clear();
      domains.clear();
    },
    async dispose() {
      const connection = adminConnection;
      adminConnection = undefined;
      if (connection) await (await connection).close();
    },
  };
}
