import { Logger } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Priority } from '../../libs/kanban/src/interfaces';
import type { NatsConnectionOptions } from '../../libs/kanban/src/interfaces/kanban-options.interface';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import type { ContractHarness } from '../contract/transport-contract';
import { natsBroker, testNamespace } from '../harness';

/** The contract harness for NATS, plus what NATS-only tests need: the prefix of a transport and a raw client. */
export interface NatsHarness extends ContractHarness {
  create(settings: TransportSettings, options?: Partial<NatsConnectionOptions>): Promise<NatsTransport>;
  reopen(transport: NatsTransport, settings: TransportSettings): Promise<NatsTransport>;
  /** Another transport on the same streams (a second server instance). */
  sibling(transport: NatsTransport, settings: TransportSettings): Promise<NatsTransport>;
  prefixOf(transport: NatsTransport): string;
  /** A plain NATS client, closed by cleanup. */
  rawClient(): Promise<NatsConnection>;
}

/**
 * Each `create` gets a stream prefix of its own on the run's NATS server; cleanup closes the
 * transports and deletes every stream with those prefixes. Work subjects are global
 * (`kanban.{priority}.{domain}`), so suites sharing domains never share a broker (npm test gives each Jest worker its own).
 */
export function createNatsHarness(): NatsHarness {
  // Open/close lines for every test drown the report; warnings and errors still show.
  Logger.overrideLogger(['warn', 'error']);
  const prefixes = new Map<NatsTransport, string>();
  const transports = new Set<NatsTransport>();
  const clients: NatsConnection[] = [];

  const open = async (prefix: string, settings: TransportSettings, options: Partial<NatsConnectionOptions> = {}): Promise<NatsTransport> => {
    const transport = new NatsTransport({ servers: [natsBroker().url], streamPrefix: prefix, ...options }, settings);
    transports.add(transport);
    prefixes.set(transport, prefix);
    await transport.connect();
    return transport;
  };
  const prefixOf = (transport: NatsTransport): string => {
    const prefix = prefixes.get(transport);
    if (!prefix) throw new Error('transport was not created by this harness');
    return prefix;
  };
  const rawClient = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: natsBroker().url });
    clients.push(nc);
    return nc;
  };

  return {
    prefixOf,
    rawClient,
    create: (settings, options) => open(testNamespace().streamPrefix, settings, options),
    async reopen(transport, settings) {
      await transport.close();
      return open(prefixOf(transport), settings);
    },
    sibling: (transport, settings) => open(prefixOf(transport), settings),
    peer: (transport, settings) => open(prefixOf(transport as NatsTransport), settings),
    // A foreign publisher: plain JetStream publish of the bytes, acknowledged by the stream.
    async injectRaw(transport, priority: Priority, domain, bytes) {
      await transport.ensureQueue(priority, domain);
      const nc = await rawClient();
      await jetstream(nc).publish(`kanban.${priority}.${domain}`, bytes);
    },
    async cleanup() {
      await Promise.all([...transports].map((transport) => transport.close()));
      transports.clear();
      const used = new Set(prefixes.values());
      prefixes.clear();
      if (used.size > 0) {
        const nc = await connect({ servers: natsBroker().url });
        try {
          const jsm = await jetstreamManager(nc);
          for await (const name of jsm.streams.names()) {
            if ([...used].some((prefix) => name.startsWith(`${prefix}_`))) await jsm.streams.delete(name);
          }
        } finally {
          await nc.close();
        }
      }
      await Promise.all(clients.splice(0).map((nc) => nc.close()));
    },
  };
}
